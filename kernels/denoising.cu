// denoising.cu — the inputs of denoising score matching (ebm.objective.DenoisingObjective and
// AnnealedDenoisingObjective): from the batch x and Gaussian noise ε (drawn by probes.cu from the NOISE stream), the
// noised batch x̃ and the regression target.
//   version 1: ebm_denoising_inputs_f32, one level: x̃ = x + σε and ε/σ; grid-stride, fp32.
//   version 2: ebm_annealed_denoising_inputs_f32, one level per sample: x̃ = x + σ_l ε with l = below(b, N) of the
//              NOISE_LEVEL stream (RandomStream.below), the target ε itself; the key is read from device memory.
#include "grid_stride.cuh"
#include "philox.cuh"

extern "C" __global__ void ebm_denoising_inputs_f32(const float* x, const float* eps, long long n, float sigma,
                                                    float* noisy, float* target) {
    EBM_GRID_STRIDE(i, n) {
        noisy[i] = x[i] + sigma * eps[i];
        target[i] = eps[i] / sigma;
    }
}

// Row b (of `batch` rows of d values) takes level sigmas[below(word b of the stream, levels)]; every element of a row
// recomputes its row's Philox block (ten rounds, far cheaper than the memory traffic around it).
extern "C" __global__ void ebm_annealed_denoising_inputs_f32(const float* x, const float* eps, long long batch,
                                                             long long d, const float* sigmas, int levels,
                                                             uint32_t stream, const PhiloxKeyInDevice* key,
                                                             float* noisy) {
    const uint64_t seed = key->seed, step = key->step;
    const long long n = batch * d;
    EBM_GRID_STRIDE(i, n) {
        const long long b = i / d;
        const PhiloxWords w = philox_stream_block(seed, step, stream, (uint32_t)(b >> 2));
        const float sigma = sigmas[philox_below(philox_word_of(w, (int)(b & 3)), (uint32_t)levels)];
        noisy[i] = x[i] + sigma * eps[i];
    }
}
