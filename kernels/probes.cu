// probes.cu — fill a buffer with draws of the (seed, step, stream) Philox stream: raw words, Rademacher signs or
// Gaussians (elements first .. first+n-1 of the stream, RandomStream's numbering). The seed and step are read from
// device memory (a PhiloxKeyInDevice) rather than passed as arguments, so a captured CUDA graph replays with the
// step the host (or a step-advance kernel) wrote there last (ARCHITECTURE.md §4).
//   version 1: one thread per Philox block (4 elements, each Box-Muller pair's log and sqrt computed once),
//              grid-stride, fp32 and fp64 Gaussians, fp32 Rademacher, uint32 words.
#include "grid_stride.cuh"
#include "philox.cuh"

// Thread b handles Philox blocks first_block + b, b + grid size, ...; a block of four elements can straddle either end
// of [first, first + n), so stores check the range.
__device__ __forceinline__ long long first_philox_block(long long first) {
    return first >> 2;
}

__device__ __forceinline__ long long philox_block_count(long long first, long long n) {
    return ((first + n + 3) >> 2) - (first >> 2);
}

template <typename T>
__device__ __forceinline__ void store_inside(T* out, long long n, long long base, T v0, T v1, T v2, T v3) {
    if (base >= 0 && base < n) out[base] = v0;
    if (base + 1 >= 0 && base + 1 < n) out[base + 1] = v1;
    if (base + 2 >= 0 && base + 2 < n) out[base + 2] = v2;
    if (base + 3 >= 0 && base + 3 < n) out[base + 3] = v3;
}

// The grid-stride loop over Philox blocks shared by every probe kernel; `transform` turns one block's four words
// into four output values (each kernel passes its own, as a lambda: device code, so no extended lambdas are needed).
template <typename T, typename Transform>
__device__ __forceinline__ void fill_from_blocks(T* out, long long n, long long first, uint32_t stream,
                                                 const PhiloxKeyInDevice* key, Transform transform) {
    const uint64_t seed = key->seed, step = key->step;
    const long long first_block = first_philox_block(first), block_count = philox_block_count(first, n);
    EBM_GRID_STRIDE(b, block_count) {
        const long long block_index = first_block + b, base = block_index * 4 - first;
        T v[4];
        transform(philox_stream_block(seed, step, stream, (uint32_t)block_index), v);
        store_inside(out, n, base, v[0], v[1], v[2], v[3]);
    }
}

extern "C" __global__ void ebm_probes_words_u32(uint32_t* out, long long n, long long first, uint32_t stream,
                                                const PhiloxKeyInDevice* key) {
    fill_from_blocks(out, n, first, stream, key, [](PhiloxWords w, uint32_t* v) {
        v[0] = w.w0; v[1] = w.w1; v[2] = w.w2; v[3] = w.w3;
    });
}

extern "C" __global__ void ebm_probes_rademacher_f32(float* out, long long n, long long first, uint32_t stream,
                                                     const PhiloxKeyInDevice* key) {
    fill_from_blocks(out, n, first, stream, key, [](PhiloxWords w, float* v) {
        v[0] = philox_rademacher_f32(w.w0); v[1] = philox_rademacher_f32(w.w1);
        v[2] = philox_rademacher_f32(w.w2); v[3] = philox_rademacher_f32(w.w3);
    });
}

extern "C" __global__ void ebm_probes_gaussian_f32(float* out, long long n, long long first, uint32_t stream,
                                                   const PhiloxKeyInDevice* key) {
    fill_from_blocks(out, n, first, stream, key, [](PhiloxWords w, float* v) {
        philox_box_muller_f32(w.w0, w.w1, &v[0], &v[1]);
        philox_box_muller_f32(w.w2, w.w3, &v[2], &v[3]);
    });
}

extern "C" __global__ void ebm_probes_gaussian_f64(double* out, long long n, long long first, uint32_t stream,
                                                   const PhiloxKeyInDevice* key) {
    fill_from_blocks(out, n, first, stream, key, [](PhiloxWords w, double* v) {
        philox_box_muller_f64(w.w0, w.w1, &v[0], &v[1]);
        philox_box_muller_f64(w.w2, w.w3, &v[2], &v[3]);
    });
}
