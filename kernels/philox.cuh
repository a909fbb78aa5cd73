// philox.cuh — Philox4x32-10 and the transforms of its words, shared by every kernel that draws random numbers.
// The stream layout and transforms are the ones src/main/java/ebm/rng/RandomStream.java documents, so the GPU
// draws bit-identical uint32 words and Rademacher signs, and Gaussians equal to the working precision's rounding.
//   version 1: philox_block (the 10 rounds), philox_stream_block (counter layout of a (seed, step, stream) stream),
//              uniform/rademacher/Box-Muller in fp64 (the reference formula) and fp32 (accurate near u = 1).
//   version 2: PhiloxKeyInDevice (moved here from probes.cu) and philox_below, for the annealed noise levels.
#pragma once
#include <stdint.h>

// (seed, step) of a stream as it sits in device memory, so a captured graph reads the step written last.
struct PhiloxKeyInDevice {
    uint64_t seed;
    uint64_t step;
};

struct PhiloxWords {
    uint32_t w0, w1, w2, w3;
};

// Multiplies in 64 bits and splits: the same instructions on the GPU (mul.wide.u32) and on the host.
__host__ __device__ __forceinline__ PhiloxWords philox_block(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                                             uint32_t k0, uint32_t k1) {
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += W0;
            k1 += W1;
        }
        uint64_t p0 = (uint64_t)M0 * c0;
        uint64_t p1 = (uint64_t)M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    return PhiloxWords{c0, c1, c2, c3};
}

// Block j of stream (seed, step, stream): key (seed lo, seed hi), counter (j, stream, step lo, step hi).
__host__ __device__ __forceinline__ PhiloxWords philox_stream_block(uint64_t seed, uint64_t step, uint32_t stream,
                                                                    uint32_t block_index) {
    return philox_block(block_index, stream, (uint32_t)step, (uint32_t)(step >> 32), (uint32_t)seed,
                        (uint32_t)(seed >> 32));
}

__host__ __device__ __forceinline__ uint32_t philox_word_of(const PhiloxWords& w, int index) {
    return index == 0 ? w.w0 : index == 1 ? w.w1 : index == 2 ? w.w2 : w.w3;
}

// below(n) = floor(word * n / 2^32): RandomStream.below, a uniform index in [0, n) (multiply-shift).
__host__ __device__ __forceinline__ uint32_t philox_below(uint32_t word, uint32_t n) {
    return (uint32_t)(((uint64_t)word * n) >> 32);
}

// uniform = (word + 0.5) * 2^-32, exactly representable in fp64.
__host__ __device__ __forceinline__ double philox_uniform_f64(uint32_t word) {
    return ((double)word + 0.5) * 2.3283064365386963e-10;
}

// +1 when the top bit is 0: the sign test is exact in any precision.
__host__ __device__ __forceinline__ float philox_rademacher_f32(uint32_t word) {
    return (word & 0x80000000u) ? -1.0f : 1.0f;
}

// Box-Muller in fp64, the reference formula: r = sqrt(-2 ln u(a)), t = 2 pi u(b); (r cos t, r sin t).
__host__ __device__ __forceinline__ void philox_box_muller_f64(uint32_t a, uint32_t b, double* first, double* second) {
    double r = sqrt(-2.0 * log(philox_uniform_f64(a)));
    double t = 6.283185307179586 * philox_uniform_f64(b);
    *first = r * cos(t);
    *second = r * sin(t);
}

// Box-Muller in fp32 for the same words. u(a) rounded to fp32 loses everything of 1 - u near u = 1, where ln u and
// so small radii would be wrong by far more than rounding; so ln u comes from log1p of the exact complement there.
// The angle is taken about its midpoint, 2 pi u = pi + 2 pi (u - 1/2), where u - 1/2 is exact in integers, which
// keeps its absolute error at an fp32 ulp of pi.
__host__ __device__ __forceinline__ void philox_box_muller_f32(uint32_t a, uint32_t b, float* first, float* second) {
    const float two_pow_m32 = 2.3283064365386963e-10f;
    float log_u;
    if (a & 0x80000000u) {
        float one_minus_u = ((float)(0xFFFFFFFFu - a) + 0.5f) * two_pow_m32; // 1 - u, exact up to one rounding
        log_u = log1pf(-one_minus_u);
    } else {
        log_u = logf(((float)a + 0.5f) * two_pow_m32);
    }
    float r = sqrtf(-2.0f * log_u);
    float centred = ((float)(int32_t)(b - 0x80000000u) + 0.5f) * two_pow_m32; // u - 1/2 in (-1/2, 1/2)
    float s, c;
    sincosf(6.2831853071795865f * centred, &s, &c);
    *first = -r * c; // cos(pi + x) = -cos x
    *second = -r * s; // sin(pi + x) = -sin x
}
