// cuda_host.h — lets g++ -std=c++20 compile the unchanged kernels/*.cu for the host (ARCHITECTURE.md §4), so CI runs every
// custom kernel through the same Java launch path without a GPU.
//
// The model (host_launch.cpp runs it): everything happens on the OS thread that called the launch, one launch at
// a time. A launch runs its blocks one after another. Within a block, the CUDA threads run one at a time, each on a
// cooperative fiber (a 64 KiB stack made once with makecontext and reused), in order of their linear index (x
// fastest, then y, z) when the launch's schedule is 0, else in an order shuffled afresh for every pass from the
// schedule's key; a thread runs without interruption until it exits the kernel or reaches a point where CUDA threads
// synchronise:
//   __syncthreads()        the thread waits. When no thread can run any more and every thread of the block waits
//                          at the same __syncthreads (same file and line), all are released and run again, in the
//                          next pass's order. A thread that exited while others wait at a barrier, or threads waiting at two
//                          different __syncthreads, fail the launch with a message naming the threads and lines
//                          (CUDA requires every thread to reach every __syncthreads; a GPU may hang or silently go
//                          on, the emulator never does either; it is stricter than hardware, where exited threads
//                          are often counted as arrived).
//   __shfl_*_sync(mask,..) the lane deposits its value and waits; when every lane of the mask that has not exited
//                          waits at the same call, the scheduler hands each lane its source lane's value. A lane of
//                          the mask waiting at a barrier instead, lanes at different calls or with different masks,
//                          a mask without the caller's lane, or a width that is not a power of two fail the launch.
// So threads interleave only at those points. Between two of them each thread runs alone, to the next one, before
// the next thread starts: a read of memory that another thread of the block writes in the same phase (a missing
// __syncthreads) sees the write exactly when the writer ran first. One schedule cannot show that; the parity checks
// run every launch in index order and shuffled and require the same bits (HostEmulationLauncher.comparingSchedules),
// which shows it whenever the output depends on the order. Not emulated: warp-synchronous code that relies on lanes
// running in lockstep without a shuffle or __syncwarp (undefined since Volta anyway).
// Atomics are plain read-modify-writes (nothing else runs in between) applied in the schedule's thread order,
// deterministic for a given schedule and not on a GPU: float atomicAdd results need a tolerance that covers any
// order (and such a kernel must be listed in KernelParityChecks.SCHEDULE_DEPENDENT).
// __shared__ variables are function-static storage, correct because no two blocks ever run at the same time (their
// contents carry over from block to block, where a GPU's start undefined). Dynamic shared memory:
// EBM_DYNAMIC_SHARED(type, name) (kernels/dynamic_shared.cuh has nvcc's definition) is the launch's sharedBytes
// (at most 48 KiB), filled with 0xFF bytes (NaN floats) at the start of every block.
// Not emulated: __syncwarp, ballots and votes, __activemask, cooperative groups, grid-wide synchronisation, atomics
// other than those below, textures and surfaces.
#pragma once
#define EBM_HOST_BUILD 1

#include <cmath>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <stdint.h>
#include <type_traits>

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

// Set by the scheduler before it resumes each fiber (one OS thread runs them all, so plain globals suffice).
inline uint3 threadIdx;
inline uint3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;
constexpr int warpSize = 32;

// ---- the scheduler's entry points (host_launch.cpp) -------------------------------------------------------------
void ebm_host_syncthreads(const char* file, int line);
unsigned long long ebm_host_shuffle(int mode, unsigned mask, unsigned long long bits, int operand, int width,
                                    const char* intrinsic, const char* file, int line);
void* ebm_host_dynamic_shared(const char* file, int line);

// The default arguments record where each call is, so mismatched barriers and shuffles can be named.
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    ebm_host_syncthreads(file, line);
}

// ---- warp shuffles: a 32-lane warp is lanes 32w .. 32w + 31 of the block's linear thread index --------------------
// Semantics as PTX shfl.sync: the offset / source lane uses its low 5 bits; width (a power of two, 1..32) splits
// the warp into segments; a source outside the segment (or above it, for xor) returns the caller's own value. A
// source lane that is not taking part (not in mask, past the end of the block, or exited) is undefined on a GPU;
// here it reads as 0x7FF8DEAD7FC0DEAD (NaN as float or double), so a result that depends on it fails its check.
namespace ebm_host {
enum ShuffleMode : int { kShuffleIdx = 0, kShuffleUp = 1, kShuffleDown = 2, kShuffleXor = 3 };

template <typename T>
inline T shuffle(ShuffleMode mode, unsigned mask, T var, int operand, int width, const char* intrinsic,
                 const char* file, int line) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move at most 8 bytes");
    unsigned long long bits = 0;
    std::memcpy(&bits, &var, sizeof(T));
    bits = ebm_host_shuffle(mode, mask, bits, operand, width, intrinsic, file, line);
    T out;
    std::memcpy(&out, &bits, sizeof(T));
    return out;
}
} // namespace ebm_host

#define EBM_HOST_SHUFFLES(T)                                                                                          \
    inline T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize,                                    \
                         const char* file = __builtin_FILE(), int line = __builtin_LINE()) {                          \
        return ebm_host::shuffle(ebm_host::kShuffleIdx, mask, var, srcLane, width, "__shfl_sync", file, line);       \
    }                                                                                                                 \
    inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,                              \
                            const char* file = __builtin_FILE(), int line = __builtin_LINE()) {                       \
        return ebm_host::shuffle(ebm_host::kShuffleUp, mask, var, (int)delta, width, "__shfl_up_sync", file, line);  \
    }                                                                                                                 \
    inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,                            \
                              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {                     \
        return ebm_host::shuffle(ebm_host::kShuffleDown, mask, var, (int)delta, width, "__shfl_down_sync", file,     \
                                 line);                                                                               \
    }                                                                                                                 \
    inline T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize,                               \
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {                      \
        return ebm_host::shuffle(ebm_host::kShuffleXor, mask, var, laneMask, width, "__shfl_xor_sync", file, line);  \
    }
EBM_HOST_SHUFFLES(int)
EBM_HOST_SHUFFLES(unsigned)
EBM_HOST_SHUFFLES(long)
EBM_HOST_SHUFFLES(unsigned long)
EBM_HOST_SHUFFLES(long long)
EBM_HOST_SHUFFLES(unsigned long long)
EBM_HOST_SHUFFLES(float)
EBM_HOST_SHUFFLES(double)
#undef EBM_HOST_SHUFFLES

// ---- atomics: fibers switch only at __syncthreads and shuffles, so a plain read-modify-write is atomic ------------
// Each returns the old value, as CUDA's do. The order of the updates is the threads' order (deterministic here,
// not on a GPU), so fp32/fp64 atomicAdd results need a tolerance that covers any order.
inline float atomicAdd(float* address, float val) { float old = *address; *address = old + val; return old; }
inline double atomicAdd(double* address, double val) { double old = *address; *address = old + val; return old; }
inline int atomicAdd(int* address, int val) {
    int old = *address;
    *address = (int)((unsigned)old + (unsigned)val); // wraps like the GPU's, without signed overflow
    return old;
}
inline unsigned atomicAdd(unsigned* address, unsigned val) { unsigned old = *address; *address = old + val; return old; }
inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long val) {
    unsigned long long old = *address;
    *address = old + val;
    return old;
}
inline int atomicMax(int* address, int val) { int old = *address; if (val > old) *address = val; return old; }
inline unsigned atomicMax(unsigned* address, unsigned val) { unsigned old = *address; if (val > old) *address = val; return old; }
inline int atomicMin(int* address, int val) { int old = *address; if (val < old) *address = val; return old; }
inline unsigned atomicMin(unsigned* address, unsigned val) { unsigned old = *address; if (val < old) *address = val; return old; }
inline int atomicCAS(int* address, int compare, int val) { int old = *address; if (old == compare) *address = val; return old; }
inline unsigned long long atomicCAS(unsigned long long* address, unsigned long long compare, unsigned long long val) {
    unsigned long long old = *address;
    if (old == compare) *address = val;
    return old;
}

// ---- dynamic shared memory -------------------------------------------------------------------------------------
// `EBM_DYNAMIC_SHARED(float, tile);` declares `float* tile`, the launch's dynamic shared memory (nvcc: an extern
// __shared__ array, see kernels/dynamic_shared.cuh). Using it in a launch with sharedBytes = 0 is an error.
#define EBM_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(ebm_host_dynamic_shared(__FILE__, __LINE__))

// Math the kernels use that C++'s <cmath> spells differently or not at all.
inline void sincosf(float x, float* s, float* c) {
    *s = std::sin(x);
    *c = std::cos(x);
}
