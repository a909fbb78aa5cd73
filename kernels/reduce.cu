// reduce.cu — sums in fp32 through a shared-memory tree, e.g. the batch mean of per-sample losses.
// Block b writes out[b] = scale · Σ of its grid-stride slice of x; launched twice (G blocks into G partials with
// scale 1, then one block over the partials with scale 1/n) it gives the mean without atomics, so the result does
// not depend on scheduling (the same bits on every run).
//   version 1: per-thread serial sums, then a tree over blockDim.x (a power of two, at most 1024) with __syncthreads.
// ebm_reduce_min_max_f32: the same tree over (min, max) pairs, NaN-propagating (min_max.cuh).
// ebm_row_reduce_f32: one block per row of a row-major matrix, the same tree within the block (DeviceTape's rowSum,
// rowSumSquares and sum, whose rows can be D = 10^6 long).
// ebm_count_nonfinite_f32: how many of n floats are NaN or ±inf, added to a 64-bit counter (a finiteness check
// without copying the buffer to the host).

#include "grid_stride.cuh"

#define EBM_REDUCE_MAX_THREADS 1024

extern "C" __global__ void ebm_reduce_sum_f32(const float* x, long long n, float scale, float* out) {
    __shared__ float partial[EBM_REDUCE_MAX_THREADS];
    const unsigned tid = threadIdx.x;
    float sum = 0.0f;
    EBM_GRID_STRIDE(i, n) {
        sum += x[i];
    }
    partial[tid] = sum;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
        if (tid < half) partial[tid] += partial[tid + half];
        __syncthreads(); // every thread reaches this, also those idle in this round
    }
    if (tid == 0) out[blockIdx.x] = partial[0] * scale;
}

// Block b writes out[b] = scale · Σ of x[i]·y[i] over its grid-stride slice (y = x for a squared norm); a second
// launch of ebm_reduce_sum_f32 over the partials finishes the sum. Used for the step's norms and dot products.
extern "C" __global__ void ebm_reduce_dot_f32(const float* x, const float* y, long long n, float scale, float* out) {
    __shared__ float partial[EBM_REDUCE_MAX_THREADS];
    const unsigned tid = threadIdx.x;
    float sum = 0.0f;
    EBM_GRID_STRIDE(i, n) {
        sum += x[i] * y[i];
    }
    partial[tid] = sum;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
        if (tid < half) partial[tid] += partial[tid + half];
        __syncthreads();
    }
    if (tid == 0) out[blockIdx.x] = partial[0] * scale;
}

#include "min_max.cuh"

// One block over count (min, max) pairs, e.g. the block partials of ebm_adamw_denominator_range_f32:
// out[0] = min of pairs[2i], out[1] = max of pairs[2i + 1]; NaN anywhere gives NaN.
extern "C" __global__ void ebm_reduce_min_max_f32(const float* pairs, long long count, float* out) {
    __shared__ float lowest[EBM_REDUCE_MAX_THREADS];
    __shared__ float highest[EBM_REDUCE_MAX_THREADS];
    const unsigned tid = threadIdx.x;
    float lo = INFINITY, hi = -INFINITY;
    for (long long i = tid; i < count; i += blockDim.x) {
        lo = ebm_nan_min(lo, pairs[2 * i]);
        hi = ebm_nan_max(hi, pairs[2 * i + 1]);
    }
    ebm_block_min_max(lowest, highest, tid, lo, hi);
    if (tid == 0) {
        out[0] = lowest[0];
        out[1] = highest[0];
    }
}

// out[i] = scale · Σ_j x[i·m + j] · (y ? y[i·m + j] : 1) for each of the n rows (accumulate: out[i] += that). One
// block per row, rows grid-striding over the blocks; the block's threads stride the row and meet in the tree. Which
// thread adds which element, and in what order, depends only on m and blockDim.x, never on the grid, so a row's sum
// is the same bits for any grid.
//   version 1: per-thread serial sums, then the tree over blockDim.x (a power of two, at most 1024).
extern "C" __global__ void ebm_row_reduce_f32(const float* x, const float* y, long long n, long long m, float scale,
                                              int accumulate, float* out) {
    __shared__ float partial[EBM_REDUCE_MAX_THREADS];
    const unsigned tid = threadIdx.x;
    for (long long row = blockIdx.x; row < n; row += gridDim.x) { // uniform over the block: the barriers are safe
        const float* xs = x + row * m;
        float sum = 0.0f;
        if (y) {
            const float* ys = y + row * m;
            for (long long j = tid; j < m; j += blockDim.x) sum += xs[j] * ys[j];
        } else {
            for (long long j = tid; j < m; j += blockDim.x) sum += xs[j];
        }
        partial[tid] = sum;
        __syncthreads();
        for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
            if (tid < half) partial[tid] += partial[tid + half];
            __syncthreads();
        }
        // The next row's first write to partial[0] is thread 0's own, after this read: no barrier needed here.
        if (tid == 0) {
            float v = scale * partial[0];
            out[row] = accumulate ? out[row] + v : v;
        }
    }
}

// *count += the number of NaN or ±inf among x[0..n). Integer atomics commute, so the count is exact for any launch.
extern "C" __global__ void ebm_count_nonfinite_f32(const float* x, long long n, unsigned long long* count) {
    __shared__ unsigned long long partial[EBM_REDUCE_MAX_THREADS];
    const unsigned tid = threadIdx.x;
    unsigned long long mine = 0;
    EBM_GRID_STRIDE(i, n) {
        if (!(fabsf(x[i]) <= 3.40282347e38f)) mine++; // false for NaN and for ±inf, true for every finite float
    }
    partial[tid] = mine;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
        if (tid < half) partial[tid] += partial[tid + half];
        __syncthreads();
    }
    if (tid == 0 && partial[0] != 0) atomicAdd(count, partial[0]);
}
