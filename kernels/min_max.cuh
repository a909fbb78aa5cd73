// min_max.cuh — NaN-propagating min and max, and the block tree over them, for the range reductions (adamw.cu,
// reduce.cu): fminf/fmaxf would drop a NaN, and the CPU reference's Math.min/Math.max keep it, so a non-finite
// optimizer state shows in its diagnostic.
#pragma once

__device__ inline float ebm_nan_min(float a, float b) { return (a != a || a < b) ? a : b; }
__device__ inline float ebm_nan_max(float a, float b) { return (a != a || a > b) ? a : b; }

// Folds every thread's (lo, hi) into lowest[0] and highest[0]: a shared-memory tree over blockDim.x threads (a power
// of two). lowest and highest are the block's shared arrays of blockDim.x floats; every thread of the block calls it.
__device__ inline void ebm_block_min_max(float* lowest, float* highest, unsigned tid, float lo, float hi) {
    lowest[tid] = lo;
    highest[tid] = hi;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
        if (tid < half) {
            lowest[tid] = ebm_nan_min(lowest[tid], lowest[tid + half]);
            highest[tid] = ebm_nan_max(highest[tid], highest[tid + half]);
        }
        __syncthreads();
    }
}
