// hutchpp.cu — the per-sample directions of Hutch++ (ebm.objective.HutchPlusPlusObjective): each sample b has
// per_sample = s + g rows of probes (the same Philox draws as the CPU's), the first s of which sketch its Hessian.
//   version 1: ebm_hutchpp_sketch_inputs_f32 (x repeated once per sketch vector, and the sketch vectors gathered, for
//              the batched Hessian-vector products); ebm_hutchpp_directions_f32, one block per sample: Householder QR
//              of Y_b = ∇²E(x_b)·S_b (s columns of length d) in place, Q's columns written over the sketch rows, and
//              the g probe rows projected by (I − QQᵀ) (modified Gram–Schmidt order, as on the CPU) and scaled.
//              fp32 storage, fp64 block reductions (shared-memory tree over blockDim.x, a power of two ≤ 1024).
//   version 2: v₀ = ak[k] is stored by thread 0, the thread that reads it next (version 1's store by thread k mod
//              blockDim.x raced with that read; with 3 or more sketch vectors Q no longer spanned Y).
// Any orthonormal basis of span(Y_b) gives the same loss (tr QᵀHQ and QQᵀ do not depend on the choice), so the
// signs of Householder's columns need not match the CPU's QR; a rank-deficient Y_b completes the basis arbitrarily
// there (an unbiased estimate either way, but then not the CPU's draw).

#include "grid_stride.cuh"

#define EBM_HUTCHPP_MAX_THREADS 1024

// rows b*sketch + k of x_rep and s are x_b and draw row b*per_sample + k.
extern "C" __global__ void ebm_hutchpp_sketch_inputs_f32(const float* x, const float* draws, long long batch, long long d,
                                                         long long sketch, long long per_sample, float* x_rep,
                                                         float* s) {
    const long long n = batch * sketch * d;
    EBM_GRID_STRIDE(i, n) {
        const long long j = i % d, row = i / d, b = row / sketch, k = row % sketch;
        x_rep[i] = x[b * d + j];
        s[i] = draws[(b * per_sample + k) * d + j];
    }
}

// Σ over the block of each thread's v; every thread gets the total. All threads must call it (it synchronises), and
// the final barrier lets the next call reuse `partial`.
__device__ __forceinline__ double hutchpp_block_sum(double v, double* partial) {
    const unsigned tid = threadIdx.x;
    partial[tid] = v;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
        if (tid < half) partial[tid] += partial[tid + half];
        __syncthreads();
    }
    const double total = partial[0];
    __syncthreads();
    return total;
}

// Σ_{i ≥ from} a[i]·c[i] over the block (thread t takes i = from + t + m·blockDim.x, as the update loops below do
// for from = k, so each thread reads there the elements it last wrote itself).
__device__ __forceinline__ double hutchpp_dot(const float* a, const float* c, long long from, long long d,
                                              double* partial) {
    double sum = 0.0;
    for (long long i = from + threadIdx.x; i < d; i += blockDim.x) sum += (double)a[i] * (double)c[i];
    return hutchpp_block_sum(sum, partial);
}

// The rest of Householder step k: every later column a_j (j > k) ← H_k a_j = a_j − β (v_kᵀa_j) v_k, v_k = ak (zero
// above k). Each thread updates the elements i = k + tid + m·blockDim.x, the ones it reads in the dots.
__device__ __forceinline__ void hutchpp_reflect_later_columns(float* a, const float* ak, long long k, double beta,
                                                              long long d, long long sketch, double* partial) {
    for (long long j = k + 1; j < sketch; j++) {
        float* aj = a + j * d;
        const double f = beta * hutchpp_dot(ak, aj, k, d, partial);
        for (long long i = k + threadIdx.x; i < d; i += blockDim.x) aj[i] = (float)(aj[i] - f * ak[i]);
    }
}

// Q's column c = H_0 ⋯ H_{s−1} e_c, applied right to left, into row c of out for c < sketch, from the Householder
// vectors in a.
__device__ __forceinline__ void hutchpp_form_q(const float* a, float* out, long long d, long long sketch, double* partial) {
    for (long long c = 0; c < sketch; c++) {
        float* q = out + c * d;
        for (long long i = threadIdx.x; i < d; i += blockDim.x) q[i] = i == c ? 1.0f : 0.0f;
        for (long long k = sketch - 1; k >= 0; k--) {
            const float* vk = a + k * d;
            const double vv = hutchpp_dot(vk, vk, k, d, partial);
            if (!(vv > 0)) continue; // uniform across the block: every thread computed the same vv
            const double f = 2.0 / vv * hutchpp_dot(vk, q, k, d, partial);
            for (long long i = k + threadIdx.x; i < d; i += blockDim.x) q[i] = (float)(q[i] - f * vk[i]);
        }
    }
}

// Rows sketch .. per_sample − 1 of out: each probe v ← rest_scale · (I − QQᵀ)v, Q's columns (rows 0 .. sketch − 1)
// subtracted one after another (modified Gram–Schmidt, as on the CPU).
__device__ __forceinline__ void hutchpp_project_rest(float* out, long long d, long long sketch, long long per_sample,
                                                     float rest_scale, double* partial) {
    for (long long p = sketch; p < per_sample; p++) {
        float* v = out + p * d;
        for (long long c = 0; c < sketch; c++) {
            const float* q = out + c * d;
            const double f = hutchpp_dot(q, v, 0, d, partial);
            for (long long i = threadIdx.x; i < d; i += blockDim.x) v[i] = (float)(v[i] - f * q[i]);
        }
        for (long long i = threadIdx.x; i < d; i += blockDim.x) v[i] *= rest_scale;
    }
}

// y: [batch*sketch x d], row b*sketch + k = column k of Y_b, overwritten by the Householder vectors. directions:
// [batch*per_sample x d] holding the draws; rows b*per_sample + k (k < sketch) become Q_b's columns, the others
// rest_scale·(I − Q_bQ_bᵀ)v.
extern "C" __global__ void ebm_hutchpp_directions_f32(float* y, long long batch, long long d, long long sketch,
                                                      long long per_sample, float rest_scale, float* directions) {
    __shared__ double partial[EBM_HUTCHPP_MAX_THREADS];
    const unsigned tid = threadIdx.x;
    for (long long b = blockIdx.x; b < batch; b += gridDim.x) { // the whole block shares b: barriers stay uniform
        float* a = y + b * sketch * d;
        float* out = directions + b * per_sample * d;
        // Householder: column k becomes v_k (zero above k), with H_k = I − 2 v_k v_kᵀ / v_kᵀv_k.
        for (long long k = 0; k < sketch; k++) {
            float* ak = a + k * d;
            __syncthreads(); // ak[k] may just have been updated by its owner thread
            const double x0 = ak[k]; // read by every thread before the barriers inside the sum, written after them
            const double tail = hutchpp_dot(ak, ak, k + 1, d, partial);
            const double norm = sqrt(x0 * x0 + tail);
            const double alpha = x0 >= 0 ? -norm : norm; // v₀ = x₀ − α without cancellation
            const float v0 = (float)(x0 - alpha);
            // Thread 0 stores v₀: element k is thread 0's in the dots and updates below (i = k + tid), which read it
            // in this same barrier phase. Any other writer would race with that read (it did: with 3+ sketch
            // vectors, thread 0 read the stale x₀ for k ≥ 1 and Q stopped spanning Y).
            if (tid == 0) ak[k] = v0;
            const double vv = (double)v0 * v0 + tail;
            const double beta = vv > 0 ? 2.0 / vv : 0.0; // a zero column: H_k = I
            hutchpp_reflect_later_columns(a, ak, k, beta, d, sketch, partial);
        }
        hutchpp_form_q(a, out, d, sketch, partial);
        hutchpp_project_rest(out, d, sketch, per_sample, rest_scale, partial);
    }
}
