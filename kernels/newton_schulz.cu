// newton_schulz.cu — the elementwise pieces of the GEMM-only matrix iterations (the row-space trace's coupled
// Newton–Schulz square root, ARCHITECTURE.md §3): the GEMMs run on cuBLAS with the polynomial's coefficients folded into α/β,
// and these kernels set the identity terms and apply a scale that lives in device memory (a norm computed on the
// device, so a captured graph needs no host round trip).
//   version 1: grid-stride over n² (identity) or n (scale), fp32.
#include "grid_stride.cuh"

// out = value · I (n x n, row-major).
extern "C" __global__ void ebm_set_identity_f32(float* out, long long n, float value) {
    EBM_GRID_STRIDE(i, n * n) {
        out[i] = i / n == i % n ? value : 0.0f;
    }
}

// out = x · (*scalar)^exponent, e.g. A/‖A‖_F with scalar = ‖A‖_F² and exponent −1/2.
extern "C" __global__ void ebm_scale_by_power_f32(const float* x, long long n, const float* scalar, float exponent,
                                                  float* out) {
    const float s = powf(*scalar, exponent);
    EBM_GRID_STRIDE(i, n) {
        out[i] = x[i] * s;
    }
}

// Muon's pieces around the Newton–Schulz GEMMs (ebm.optim.Muon), per weight matrix of n elements:
// b ← μb + (1 − μ)g; u = (1 − μ)g + μb (Nesterov) or b.
extern "C" __global__ void ebm_muon_momentum_f32(const float* grad, float* buffer, long long n, float mu, int nesterov,
                                                 float* update) {
    const float keep = 1.0f - mu;
    EBM_GRID_STRIDE(i, n) {
        float g = grad[i];
        float b = mu * buffer[i] + keep * g;
        buffer[i] = b;
        update[i] = nesterov ? keep * g + mu * b : b;
    }
}

// out = x / (√(*sum_squares) + eps): the Frobenius normalisation before the iteration.
extern "C" __global__ void ebm_normalize_f32(const float* x, long long n, const float* sum_squares, float eps, float* out) {
    const float s = 1.0f / (sqrtf(*sum_squares) + eps);
    EBM_GRID_STRIDE(i, n) {
        out[i] = x[i] * s;
    }
}

struct MuonScalarsInDevice {
    double lr;            // this step's learning rate (schedule applied), written by the host
    double weight_decay;
};

// θ ← θ(1 − lr·λ) − lr·scale·O, with lr from device memory and scale = √max(1, rows/cols).
extern "C" __global__ void ebm_muon_apply_f32(float* params, const float* orthogonal, long long n,
                                              const MuonScalarsInDevice* s, float scale) {
    const float lr = (float)s->lr, decay_factor = (float)(1.0 - s->lr * s->weight_decay);
    EBM_GRID_STRIDE(i, n) {
        params[i] = params[i] * decay_factor - lr * scale * orthogonal[i];
    }
}
