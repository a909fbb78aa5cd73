// test_kernels.cu — kernels that exercise the host emulation itself (HostEmulatorTest): barriers across 1024
// threads, atomics, warp shuffles, dynamic shared memory, thread indices in 3-D blocks, and misuse that must
// come back as an error rather than a hang; and for the schedule comparison (ScheduleComparisonTest) a float atomic
// sum and version 1 of hutchpp.cu's directions kernel. Built into the host library only (build-host.sh); never
// shipped to the GPU, so nothing here is in kernels/.
#include "dynamic_shared.cuh"

// Block b writes out[b] = Σ x[b·blockDim .. (b+1)·blockDim) through a tree in dynamic shared memory
// (blockDim.x a power of two, sharedBytes = 4·blockDim.x), one __syncthreads per level.
extern "C" __global__ void ebm_test_tree_sum_f32(const float* x, float* out) {
    EBM_DYNAMIC_SHARED(float, partial);
    const unsigned tid = threadIdx.x;
    partial[tid] = x[(long long)blockIdx.x * blockDim.x + tid];
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
        if (tid < half) partial[tid] += partial[tid + half];
        __syncthreads();
    }
    if (tid == 0) out[blockIdx.x] = partial[0];
}

// Each thread writes its indices before and after a barrier (the scheduler must restore them on every resume):
// out[6·g + 0..2] = threadIdx before, out[6·g + 3..5] = threadIdx after, g the global linear thread index.
extern "C" __global__ void ebm_test_thread_ids(unsigned* out) {
    const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
    const unsigned g = block * threads + (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    out[6 * g + 0] = threadIdx.x;
    out[6 * g + 1] = threadIdx.y;
    out[6 * g + 2] = threadIdx.z;
    __syncthreads();
    __syncthreads();
    out[6 * g + 3] = threadIdx.x;
    out[6 * g + 4] = threadIdx.y;
    out[6 * g + 5] = threadIdx.z;
}

// Every atomic the header provides, from every thread of every block. ints[0]: atomicAdd ticket counter (each
// thread stores the old value in tickets[g]); ints[1]: atomicMax; ints[2]: atomicMin; ints[3]: a block-local
// __shared__ count added once per block; ints[4]: atomicCAS claims (only the first thread's CAS from 0 wins).
extern "C" __global__ void ebm_test_atomics(int* ints, unsigned* tickets, float* fsum, double* dsum,
                                            unsigned long long* usum, unsigned* umax) {
    __shared__ int block_count;
    const unsigned g = blockIdx.x * blockDim.x + threadIdx.x;
    if (threadIdx.x == 0) block_count = 0;
    __syncthreads();
    tickets[g] = (unsigned)atomicAdd(&ints[0], 1);
    atomicMax(&ints[1], (int)((g * 7919u) % 1000u));
    atomicMin(&ints[2], -(int)((g * 104729u) % 1000u));
    atomicAdd(&block_count, 1);
    if (atomicCAS(&ints[4], 0, (int)g + 1) == 0) atomicAdd(&ints[4], 1000);
    atomicAdd(fsum, 0.25f);
    atomicAdd(dsum, (double)g);
    atomicAdd(usum, 1ull << 33);
    atomicMax(umax, g);
    __syncthreads();
    if (threadIdx.x == 0) atomicAdd(&ints[3], block_count);
}

// out[g] = the shuffle of values[g] by one mode (0 idx, 1 up, 2 down, 3 xor) with the given operand and width,
// for the lanes in mask; lanes outside it copy their value and take no part.
extern "C" __global__ void ebm_test_shuffle(const int* values, int* out, int mode, int operand, int width, unsigned mask) {
    const unsigned g = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned lane = threadIdx.x % warpSize;
    int v = values[g];
    if (mask >> lane & 1u) {
        if (mode == 0) v = __shfl_sync(mask, v, operand, width);
        if (mode == 1) v = __shfl_up_sync(mask, v, (unsigned)operand, width);
        if (mode == 2) v = __shfl_down_sync(mask, v, (unsigned)operand, width);
        if (mode == 3) v = __shfl_xor_sync(mask, v, operand, width);
    }
    out[g] = v;
}

// Warp sums two ways (blockDim.x a multiple of 32): warp_down[w] = lane 0's __shfl_down_sync tree over floats;
// every lane's __shfl_xor_sync butterfly over doubles goes to xor_all[g] (all lanes of a warp hold the sum).
extern "C" __global__ void ebm_test_warp_sums(const float* x, float* warp_down, double* xor_all) {
    const unsigned g = blockIdx.x * blockDim.x + threadIdx.x;
    float v = x[g];
    for (int offset = warpSize / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (threadIdx.x % warpSize == 0) warp_down[g / warpSize] = v;
    double d = (double)x[g];
    for (int lane_mask = 1; lane_mask < warpSize; lane_mask *= 2) d += __shfl_xor_sync(0xffffffffu, d, lane_mask);
    xor_all[g] = d;
}

// Misuse the emulator must report (never hang on), one case per `which`:
// 0 thread 3 returns before a barrier; 1 half the block waits at a different __syncthreads; 2 lane 5 waits at a
// barrier while its warp shuffles; 3 a shuffle width of 12; 4 dynamic shared memory with sharedBytes = 0.
extern "C" __global__ void ebm_test_misuse(int which, float* out) {
    const unsigned tid = threadIdx.x;
    float v = (float)tid;
    if (which == 0) {
        if (tid == 3) return;
        __syncthreads();
    } else if (which == 1) {
        if (tid < 16) {
            __syncthreads();
        } else {
            __syncthreads();
        }
    } else if (which == 2) {
        if (tid % warpSize == 5) {
            __syncthreads();
        } else {
            v = __shfl_down_sync(0xffffffffu, v, 1);
        }
    } else if (which == 3) {
        v = __shfl_xor_sync(0xffffffffu, v, 1, 12);
    } else if (which == 4) {
        EBM_DYNAMIC_SHARED(float, scratch);
        scratch[tid] = v;
    }
    out[tid] = v;
}

// out[0] += x[g] for every thread g by float atomicAdd: its bits follow the order of the additions, so the result
// legitimately depends on the schedule (the schedule comparison's tolerance path is tested with it).
extern "C" __global__ void ebm_test_atomic_sum_f32(const float* x, float* out) {
    atomicAdd(out, x[blockIdx.x * blockDim.x + threadIdx.x]);
}

// Version 1 of ebm_hutchpp_directions_f32 (kernels/hutchpp.cu), kept so that a test shows the schedule comparison
// catching its race: v₀ was stored by thread k mod blockDim.x while thread 0 read element k in the same barrier
// phase (in thread order always the stale value). Only that store differs; the rest is hutchpp.cu's helpers
// (build-host.sh includes every kernels/*.cu before this file, in one translation unit).
extern "C" __global__ void ebm_test_hutchpp_directions_v1_f32(float* y, long long batch, long long d, long long sketch,
                                                              long long per_sample, float rest_scale, float* directions) {
    __shared__ double partial[EBM_HUTCHPP_MAX_THREADS];
    const unsigned tid = threadIdx.x;
    for (long long b = blockIdx.x; b < batch; b += gridDim.x) {
        float* a = y + b * sketch * d;
        float* out = directions + b * per_sample * d;
        for (long long k = 0; k < sketch; k++) {
            float* ak = a + k * d;
            __syncthreads();
            const double x0 = ak[k];
            const double tail = hutchpp_dot(ak, ak, k + 1, d, partial);
            const double norm = sqrt(x0 * x0 + tail);
            const double alpha = x0 >= 0 ? -norm : norm;
            const float v0 = (float)(x0 - alpha);
            if (k % blockDim.x == tid) ak[k] = v0; // the race: thread 0 reads ak[k] below, in this phase
            const double vv = (double)v0 * v0 + tail;
            const double beta = vv > 0 ? 2.0 / vv : 0.0;
            hutchpp_reflect_later_columns(a, ak, k, beta, d, sketch, partial);
        }
        hutchpp_form_q(a, out, d, sketch, partial);
        hutchpp_project_rest(out, d, sketch, per_sample, rest_scale, partial);
    }
}
