// shampoo.cu — the elementwise piece of Shampoo's step on the GPU (ebm.optim.Shampoo): the statistics and the
// preconditioned direction L^{−1/4} G R^{−1/4} are cuBLAS GEMMs, the inverse roots come from the host's fp64
// eigendecomposition, the graft direction is adamw.cu's ebm_adamw_direction_f32 and the update is newton_schulz.cu's
// ebm_muon_apply_f32 (θ ← θ(1 − lr·λ) − lr·direction). What is left: rescaling a block's preconditioned direction to
// the norm of its graft step, with both squared norms and the "preconditioning has started" flag read from device
// memory (so a captured step replays correctly across start_step).
//   version 1: grid-stride over the block's elements, fp32.

// direction = (‖graft‖/‖P‖)·P, where graft_sq = ‖graft‖² of the direction's current (graft) values; the block keeps its
// graft step before start_step (*precondition == 0) and when ‖P‖ = 0 (no orientation to rescale).
extern "C" __global__ void ebm_shampoo_graft_norm_f32(const float* preconditioned, long long n, const float* graft_sq,
                                                      const float* preconditioned_sq, const long long* precondition,
                                                      float* direction) {
    const float p_sq = *preconditioned_sq;
    if (*precondition == 0 || !(p_sq > 0.0f)) return;
    const float scale = sqrtf(*graft_sq) / sqrtf(p_sq);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        direction[i] = scale * preconditioned[i];
    }
}

#define EBM_SHAMPOO_TILE 16

// The statistics in fp64: S[n x n] += AAᵀ over k, A(i, c) = g[i·ld + c] (L += GGᵀ: n = rows, k = cols, ld = cols) or,
// with transpose = 1, A(i, c) = g[c·ld + i] (R += GᵀG: n = cols, k = rows, ld = cols). fp32 statistics would put
// rounding of ~6e-8·λmax into every eigenvalue, which the −1/4 power of a statistic with condition number κ turns
// into ~6e-8·κ relative error of the root: Shampoo's statistics are products of a gradient with itself, so κ is the
// square of the gradient's. The products of fp32 inputs are exact in fp64 and the sums round at 1e-16.
// One block of 256 threads per 16 x 16 tile of S (grid-stride over tiles); both k-slices staged in shared memory.
// S[i][j] and S[j][i] sum the same products in the same order, so S stays exactly symmetric.
extern "C" __global__ void ebm_shampoo_statistics_f64(const float* g, long long n, long long k, long long ld, int transpose,
                                                      double* s) {
    __shared__ float rows_i[EBM_SHAMPOO_TILE][EBM_SHAMPOO_TILE + 1];
    __shared__ float rows_j[EBM_SHAMPOO_TILE][EBM_SHAMPOO_TILE + 1];
    const int ti = threadIdx.x / EBM_SHAMPOO_TILE, tj = threadIdx.x % EBM_SHAMPOO_TILE;
    const long long tiles_per_side = (n + EBM_SHAMPOO_TILE - 1) / EBM_SHAMPOO_TILE;
    for (long long tile = blockIdx.x; tile < tiles_per_side * tiles_per_side; tile += gridDim.x) {
        const long long i0 = (tile / tiles_per_side) * EBM_SHAMPOO_TILE, j0 = (tile % tiles_per_side) * EBM_SHAMPOO_TILE;
        double sum = 0.0;
        for (long long c0 = 0; c0 < k; c0 += EBM_SHAMPOO_TILE) {
            // thread (ti, tj) stages element c0 + tj of row i0 + ti and of row j0 + ti (zero outside)
            const long long c = c0 + tj, a = i0 + ti, b = j0 + ti;
            rows_i[ti][tj] = (a < n && c < k) ? (transpose ? g[c * ld + a] : g[a * ld + c]) : 0.0f;
            rows_j[ti][tj] = (b < n && c < k) ? (transpose ? g[c * ld + b] : g[b * ld + c]) : 0.0f;
            __syncthreads();
            for (int cc = 0; cc < EBM_SHAMPOO_TILE; cc++) sum += (double)rows_i[ti][cc] * (double)rows_j[tj][cc];
            __syncthreads(); // the tiles are overwritten next round
        }
        const long long i = i0 + ti, j = j0 + tj;
        if (i < n && j < n) s[i * n + j] += sum;
    }
}
