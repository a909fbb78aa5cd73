// sgd.cu — SGD with momentum/Nesterov over the whole flat fp32 parameter buffer, PyTorch's semantics (ebm.optim.Sgd):
// d = g + λθ; with momentum μ: b = d on the first step, else b = μb + (1 − τ)d; d = d + μb (Nesterov) or b; θ ← θ − lr·d.
// The learning rate and the step counter live in device memory (SgdScalarsInDevice), so a captured graph replays:
// ebm_sgd_advance (one thread) counts the step after ebm_sgd_step_f32 has read it.
//   version 1: one grid-stride launch, fp32 state; `momentum_buffer` is null without momentum.
#include "grid_stride.cuh"

struct SgdScalarsInDevice {
    long long step;     // steps taken before this one
    double lr;          // this step's learning rate (schedule applied), written by the host
    double momentum, dampening, weight_decay;
    int nesterov;
};

extern "C" __global__ void ebm_sgd_step_f32(float* params, const float* grad, float* momentum_buffer, long long n,
                                            const SgdScalarsInDevice* s) {
    const float lr = (float)s->lr, mu = (float)s->momentum, decay = (float)s->weight_decay;
    const float keep = (float)(1.0 - s->dampening);
    const bool first = s->step == 0, nesterov = s->nesterov != 0;
    EBM_GRID_STRIDE(i, n) {
        float d = grad[i];
        if (decay != 0.0f) d += decay * params[i];
        if (momentum_buffer) {
            float b = first ? d : mu * momentum_buffer[i] + keep * d;
            momentum_buffer[i] = b;
            d = nesterov ? d + mu * b : b;
        }
        params[i] -= lr * d;
    }
}

extern "C" __global__ void ebm_sgd_advance(SgdScalarsInDevice* s) {
    if (blockIdx.x == 0 && threadIdx.x == 0) s->step += 1;
}
