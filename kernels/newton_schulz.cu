// newton_schulz.cu — the elementwise pieces of the GEMM-only matrix iterations (the row-space trace's coupled
// Newton–Schulz square root, DESIGN §3): the GEMMs run on cuBLAS with the polynomial's coefficients folded into α/β,
// and these kernels set the identity terms and apply a scale that lives in device memory (a norm computed on the
// device, so a captured graph needs no host round trip).
//   version 1: grid-stride over n² (identity) or n (scale), fp32.

// out = value · I (n x n, row-major).
extern "C" __global__ void ebm_set_identity_f32(float* out, long long n, float value) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n * n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = i / n == i % n ? value : 0.0f;
    }
}

// out = x · (*scalar)^exponent, e.g. A/‖A‖_F with scalar = ‖A‖_F² and exponent −1/2.
extern "C" __global__ void ebm_scale_by_power_f32(const float* x, long long n, const float* scalar, float exponent,
                                                  float* out) {
    const float s = powf(*scalar, exponent);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = x[i] * s;
    }
}
