// shampoo.cu — the elementwise piece of Shampoo's step on the GPU (ebm.optim.Shampoo): the fp64 statistics (cuBLAS
// dgemm on G widened by elementwise.cu's ebm_widen_f32_f64) and the preconditioned direction L^{−1/4} G R^{−1/4} are
// cuBLAS GEMMs, the inverse roots come from the host's fp64 eigendecomposition, the graft direction is adamw.cu's
// ebm_adamw_direction_f32 and the update is newton_schulz.cu's ebm_muon_apply_f32 (θ ← θ(1 − lr·λ) − lr·direction).
// What is left: rescaling a block's preconditioned direction to the norm of its graft step, with both squared norms and
// the "preconditioning has started" flag read from device memory (so a captured step replays correctly across
// start_step).
//   version 1: grid-stride over the block's elements, fp32.
#include "grid_stride.cuh"

// direction = (‖graft‖/‖P‖)·P, where graft_sq = ‖graft‖² of the direction's current (graft) values; the block keeps its
// graft step before start_step (*precondition == 0) and when ‖P‖ = 0 (no orientation to rescale).
extern "C" __global__ void ebm_shampoo_graft_norm_f32(const float* preconditioned, long long n, const float* graft_sq,
                                                      const float* preconditioned_sq, const long long* precondition,
                                                      float* direction) {
    const float p_sq = *preconditioned_sq;
    if (*precondition == 0 || !(p_sq > 0.0f)) return;
    const float scale = sqrtf(*graft_sq) / sqrtf(p_sq);
    EBM_GRID_STRIDE(i, n) {
        direction[i] = scale * preconditioned[i];
    }
}
