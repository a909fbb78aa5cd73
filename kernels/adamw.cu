// adamw.cu — fused AdamW over the whole flat fp32 parameter buffer, torch.optim.AdamW's order (ebm.optim.AdamW):
// θ ← θ(1 − lr·λ); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − (lr/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + eps).
// Everything that changes per step lives in device memory (AdamWScalarsInDevice), so a captured graph replays
// correctly: ebm_adamw_advance (one thread) advances the step counter and computes the bias corrections in fp64
// from the lr the host or a schedule kernel wrote; ebm_adamw_step_f32 reads them.
//   version 1: one grid-stride launch over all n parameters, one element per thread iteration, fp32 state.
// Also the graft direction of Shampoo (ebm_adamw_direction_f32) and the adam_v_spread diagnostic
// (ebm_adamw_denominator_range_f32, finished by reduce.cu's ebm_reduce_min_max_f32).
#include "grid_stride.cuh"

#include "min_max.cuh"

struct AdamWScalarsInDevice {
    long long step;          // steps taken, advanced by ebm_adamw_advance
    double lr;               // this step's learning rate (schedule applied), written before the advance
    double beta1, beta2, eps, weight_decay;
    double decay_factor;     // 1 − lr·λ
    double step_size;        // lr / (1 − β₁ᵗ)
    double bias_correction2_sqrt; // √(1 − β₂ᵗ)
};

extern "C" __global__ void ebm_adamw_advance(AdamWScalarsInDevice* s) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    long long t = s->step + 1;
    s->step = t;
    s->decay_factor = 1.0 - s->lr * s->weight_decay;
    s->step_size = s->lr / (1.0 - pow(s->beta1, (double)t));
    s->bias_correction2_sqrt = sqrt(1.0 - pow(s->beta2, (double)t));
}

extern "C" __global__ void ebm_adamw_step_f32(float* params, const float* grad, float* exp_avg, float* exp_avg_sq,
                                              long long n, const AdamWScalarsInDevice* s) {
    // 1 − β in fp64 first: fp32's 0.999 is 0.99900001, whose complement is off by 1.3e-5 relative.
    const float beta1 = (float)s->beta1, beta2 = (float)s->beta2, eps = (float)s->eps;
    const float one_minus_beta1 = (float)(1.0 - s->beta1), one_minus_beta2 = (float)(1.0 - s->beta2);
    const float decay_factor = (float)s->decay_factor, step_size = (float)s->step_size;
    const float bias_correction2_sqrt = (float)s->bias_correction2_sqrt;
    EBM_GRID_STRIDE(i, n) {
        float g = grad[i];
        float p = params[i] * decay_factor;
        float m = exp_avg[i] * beta1 + one_minus_beta1 * g;
        float v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        float denom = sqrtf(v) / bias_correction2_sqrt + eps;
        params[i] = p + (-step_size * m) / denom;
    }
}

// The AdamW step as a direction, without lr or weight decay, for Shampoo's graft (ebm.optim.Shampoo.graftStep):
// the moments as above, then out = (m/(1 − β₁ᵗ)) / (√v/√(1 − β₂ᵗ) + eps), after ebm_adamw_advance.
extern "C" __global__ void ebm_adamw_direction_f32(const float* grad, float* exp_avg, float* exp_avg_sq, long long n,
                                                   const AdamWScalarsInDevice* s, float* out) {
    const float beta1 = (float)s->beta1, beta2 = (float)s->beta2, eps = (float)s->eps;
    const float one_minus_beta1 = (float)(1.0 - s->beta1), one_minus_beta2 = (float)(1.0 - s->beta2);
    const float bias_correction1 = (float)(1.0 - pow(s->beta1, (double)s->step));
    const float bias_correction2_sqrt = (float)s->bias_correction2_sqrt;
    EBM_GRID_STRIDE(i, n) {
        float g = grad[i];
        float m = exp_avg[i] * beta1 + one_minus_beta1 * g;
        float v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        out[i] = (m / bias_correction1) / (sqrtf(v) / bias_correction2_sqrt + eps);
    }
}

#define EBM_ADAMW_RANGE_THREADS 1024

// The diagnostic adam_v_spread (ebm.optim.AdamW.diagnostics): block b writes the min and the max of the
// denominators √v/√(1 − β₂ᵗ) + eps of its grid-stride slice into partials[2b], partials[2b + 1] (computed as the
// step kernels compute them, after the step); ebm_reduce_min_max_f32 finishes over the blocks.
extern "C" __global__ void ebm_adamw_denominator_range_f32(const float* exp_avg_sq, long long n,
                                                           const AdamWScalarsInDevice* s, float* partials) {
    __shared__ float lowest[EBM_ADAMW_RANGE_THREADS];
    __shared__ float highest[EBM_ADAMW_RANGE_THREADS];
    const unsigned tid = threadIdx.x;
    const float eps = (float)s->eps, bias_correction2_sqrt = (float)s->bias_correction2_sqrt;
    float lo = INFINITY, hi = -INFINITY;
    EBM_GRID_STRIDE(i, n) {
        float denom = sqrtf(exp_avg_sq[i]) / bias_correction2_sqrt + eps;
        lo = ebm_nan_min(lo, denom);
        hi = ebm_nan_max(hi, denom);
    }
    ebm_block_min_max(lowest, highest, tid, lo, hi);
    if (tid == 0) {
        partials[2 * blockIdx.x] = lowest[0];
        partials[2 * blockIdx.x + 1] = highest[0];
    }
}
