// langevin.cu — one step of unadjusted Langevin dynamics for every chain at once (ebm.sample.Langevin):
// x ← x + a·∇ₓE(x) + b·ξ with a = −(ε_i/2)/σ_i and b = √ε_i for the step's level i (a = −ε/2, b = √ε without
// annealing), ξ element e of the Philox stream (seed, t, LANGEVIN) — the CPU chain's draws, e = chain·D + coordinate.
// The step t, the key and the level's coefficients live in device memory (LangevinChainState), so one captured step
// replays as every later one: ebm_langevin_advance (one thread) counts the step and looks its level up in a table the
// host wrote once; ebm_langevin_step_f32 then reads them. ∇ₓE comes from the device tape (DeviceMlp.gradX).
//   version 1: one thread per Philox block (four elements, each Box-Muller pair's log and sqrt once), grid-stride,
//              fp32 points and gradient, coefficients rounded once from the fp64 schedule.
#include "grid_stride.cuh"
#include "philox.cuh"

struct LangevinChainState {
    unsigned long long seed; // Philox key of the noise
    unsigned long long step; // the step being taken (1-based after ebm_langevin_advance), the Philox step
    float drift;             // a = −(ε_i/2)/σ_i of the current level
    float noise;             // b = √ε_i
};

// One noise level of the schedule: it covers steps up to and including last_step; coefficients in fp64, as the CPU.
struct LangevinLevel {
    long long last_step;
    double drift;
    double noise;
};

extern "C" __global__ void ebm_langevin_advance(LangevinChainState* s, const LangevinLevel* levels, int level_count) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    const unsigned long long step = s->step + 1;
    int level = 0;
    // levels are in order; past the table's end the last level goes on (the host sizes the table for its chain)
    while (level + 1 < level_count && (long long)step > levels[level].last_step) level++;
    s->step = step;
    s->drift = (float)levels[level].drift;
    s->noise = (float)levels[level].noise;
}

extern "C" __global__ void ebm_langevin_step_f32(float* x, const float* grad_x, long long n, uint32_t stream,
                                                 const LangevinChainState* s) {
    const unsigned long long seed = s->seed, step = s->step;
    const float a = s->drift, b = s->noise;
    const long long blocks = (n + 3) >> 2;
    EBM_GRID_STRIDE(block, blocks) {
        const PhiloxWords w = philox_stream_block(seed, step, stream, (uint32_t)block);
        float xi[4];
        philox_box_muller_f32(w.w0, w.w1, &xi[0], &xi[1]);
        philox_box_muller_f32(w.w2, w.w3, &xi[2], &xi[3]);
        const long long base = block * 4;
        for (int k = 0; k < 4; k++) {
            const long long i = base + k;
            if (i < n) x[i] += a * grad_x[i] + b * xi[k];
        }
    }
}
