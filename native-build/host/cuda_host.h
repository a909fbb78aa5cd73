// cuda_host.h — lets g++ -std=c++20 compile the unchanged kernels/*.cu for the host (DESIGN §4), so CI runs every
// custom kernel through the same Java launch path without a GPU.
// The model: a launch runs its blocks one at a time, and each block's threads as host threads (one host thread per
// CUDA thread, reused from block to block). __syncthreads is a std::barrier over the block's threads; __shared__
// variables become function-static storage, which is correct because no two blocks ever run at the same time.
// Limits (checked by the launcher where they can be): no dynamic shared memory (extern __shared__), no warp
// intrinsics or atomics yet, and every thread of a block must reach every __syncthreads (CUDA's rule anyway).
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <math.h>
#include <stdint.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct EbmHostDim3 {
    unsigned x = 1, y = 1, z = 1;
};
typedef EbmHostDim3 dim3;
typedef EbmHostDim3 uint3;

// Set by the launcher in each host thread before it runs a block.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
inline thread_local std::barrier<>* ebm_host_block_barrier = nullptr;

inline void __syncthreads() {
    ebm_host_block_barrier->arrive_and_wait();
}

// Math the kernels use that C++'s <cmath> spells differently or not at all.
inline void sincosf(float x, float* s, float* c) {
    *s = std::sin(x);
    *c = std::cos(x);
}
