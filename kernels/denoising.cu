// denoising.cu — the inputs of denoising score matching (ebm.objective.DenoisingObjective): from the batch x and
// Gaussian noise ε (drawn by probes.cu from the NOISE stream), x̃ = x + σε and the regression target ε/σ.
//   version 1: grid-stride, fp32.
extern "C" __global__ void ebm_denoising_inputs_f32(const float* x, const float* eps, long long n, float sigma,
                                                    float* noisy, float* target) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        noisy[i] = x[i] + sigma * eps[i];
        target[i] = eps[i] / sigma;
    }
}
