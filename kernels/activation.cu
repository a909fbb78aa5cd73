// activation.cu — fused bias + activation: z = pre[r, c] + bias[c], then σ(z), σ′(z), σ″(z), σ‴(z) in one pass
// (ebm.model.Activation.derivative; the forward Laplacian needs σ″, its parameter gradient σ‴).
// out holds four planes of rows·cols: out[k·rows·cols + r·cols + c] = σ⁽ᵏ⁾(z).
//   version 1: fp32, grid-stride over rows·cols, one exp per element (sech² from it, not 1 − tanh²), activation chosen
//              by an argument (uniform across the grid, so the switch does not diverge).
// Activation codes (the order of the Java enum ebm.model.Activation): 0 softplus, 1 silu, 2 tanh, 3 gelu_tanh.
#include "grid_stride.cuh"

// σ(z) for softplus/silu from one exp: e = exp(−|z|), s = 1/(1+e) or e/(1+e), never overflowing.
__device__ __forceinline__ float logistic_from_exp_f32(float z, float e) {
    return z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// tanh u and sech² u from one exp: 1 − tanh² u computed in fp32 cancels (relative error 1e-7/sech² u, 6e-6 at
// u = 3), while 4e/(1 + e)² with e = exp(−2|u|) keeps full relative precision.
__device__ __forceinline__ void tanh_and_sech2_f32(float u, float* t, float* sech2) {
    float e = expf(-2.0f * fabsf(u));
    float r = 1.0f / (1.0f + e);
    float magnitude = (1.0f - e) * r;
    *t = u >= 0.0f ? magnitude : -magnitude;
    *sech2 = 4.0f * e * r * r;
}

__device__ __forceinline__ void activation_derivatives_f32(int activation, float z, float* d0, float* d1, float* d2,
                                                           float* d3) {
    switch (activation) {
        case 0: { // softplus: σ = max(z,0) + log1p(e^−|z|), σ′ = s, σ″ = s(1−s), σ‴ = s(1−s)(1−2s)
            float e = expf(-fabsf(z));
            float s = logistic_from_exp_f32(z, e);
            float p = s * (1.0f - s);
            *d0 = fmaxf(z, 0.0f) + log1pf(e);
            *d1 = s;
            *d2 = p;
            *d3 = p * (1.0f - 2.0f * s);
            break;
        }
        case 1: { // silu: σ = z s
            float e = expf(-fabsf(z));
            float s = logistic_from_exp_f32(z, e);
            float p = s * (1.0f - s);
            float q = 1.0f - 2.0f * s;
            *d0 = z * s;
            *d1 = s + z * p;
            *d2 = p * (2.0f + z * q);
            *d3 = p * (q * (3.0f + z * q) - 2.0f * z * p);
            break;
        }
        case 2: { // tanh: σ′ = 1 − t², σ″ = −2tσ′, σ‴ = −2σ′(1 − 3t²)
            float t, s;
            tanh_and_sech2_f32(z, &t, &s);
            *d0 = t;
            *d1 = s;
            *d2 = -2.0f * t * s;
            *d3 = -2.0f * s * (1.0f - 3.0f * t * t);
            break;
        }
        default: { // gelu_tanh: σ = z(1 + tanh u)/2, u = k(z + a z³), S = sech² u
            const float k = 0.7978845608028654f, a = 0.044715f;
            float u = k * (z + a * z * z * z);
            float du = k * (1.0f + 3.0f * a * z * z);
            float ddu = 6.0f * a * k * z;
            float dddu = 6.0f * a * k;
            float t, s;
            tanh_and_sech2_f32(u, &t, &s);
            float inner = ddu - 2.0f * t * du * du;
            *d0 = 0.5f * z * (1.0f + t);
            *d1 = 0.5f * (1.0f + t) + 0.5f * z * s * du;
            *d2 = s * du + 0.5f * z * s * inner;
            *d3 = 1.5f * s * inner
                  + 0.5f * z * s * (-2.0f * t * du * inner + dddu - 2.0f * s * du * du * du - 4.0f * t * du * ddu);
            break;
        }
    }
}

extern "C" __global__ void ebm_bias_activation_f32(const float* pre, const float* bias, long long rows, long long cols,
                                                   int activation, float* out) {
    const long long n = rows * cols;
    EBM_GRID_STRIDE(i, n) {
        float z = pre[i] + bias[i % cols];
        float d0, d1, d2, d3;
        activation_derivatives_f32(activation, z, &d0, &d1, &d2, &d3);
        out[i] = d0;
        out[n + i] = d1;
        out[2 * n + i] = d2;
        out[3 * n + i] = d3;
    }
}

// The adjoint of the four planes of ebm_bias_activation_f32 (Tape.activations: the adjoint of σ⁽ᵏ⁾ uses σ⁽ᵏ⁺¹⁾):
// gz[i] = g0[i]·σ′ + g1[i]·σ″ + g2[i]·σ‴ (written, not accumulated: the caller adds it where it belongs), where a
// null g_k means nothing reached that order.
extern "C" __global__ void ebm_activation_adjoint_f32(const float* planes, const float* g0, const float* g1,
                                                      const float* g2, long long n, float* gz) {
    EBM_GRID_STRIDE(i, n) {
        float sum = 0.0f;
        if (g0) sum += g0[i] * planes[n + i];
        if (g1) sum += g1[i] * planes[2 * n + i];
        if (g2) sum += g2[i] * planes[3 * n + i];
        gz[i] = sum;
    }
}
