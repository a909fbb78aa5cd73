// grouped.cu — the device tape's grouped (per-direction) ops and their adjoints (ebm.tape.Tape's groupMul,
// sharedMul, groupSum, groupSumSquares, repeatRows, and the row/column/total reductions written as groups).
// A grouped tensor t is [n·r x m]: row b·r + k is direction k of sample b. fp32, row-major.
//   ebm_grouped_reduce_f32     out[b, j] ⊕= scale · Σ_k x[b·r+k, j] · (y ? y[b·r+k, j] : 1)
//       groupSum (y null), groupSumSquares (y = x), groupMul's adjoint for the per-sample factor,
//       repeatRows' adjoint, the bias and row-vector adjoints (column sums), colSumSquares with n = 1. Row
//       sums (rowSum, rowSumSquares, sum) are reduce.cu's ebm_row_reduce_f32: a block per row, not a thread.
//   ebm_grouped_broadcast_f32  out[b·r+k, j] ⊕= scale · a[b, j] · (t ? t[b·r+k, j] : 1)
//       groupMul, its adjoint for t, repeatRows, and the adjoints of every reduction above and of the row sums
//       (as [n·m x 1] grouped tensors with r = m).
//   ebm_shared_mul_f32         out[b·r+k, j] ⊕= a[b, j] · c[k, j]           (sharedMul)
//   ebm_shared_mul_adjoint_a   ga[b, j] += Σ_k g[b·r+k, j] · c[k, j]
//   ebm_shared_mul_adjoint_c   gc[k, j] += Σ_b g[b·r+k, j] · a[b, j]
//   version 1: one thread per output element, a serial loop over the reduced index in a fixed order (results do not
//              depend on the launch shape); neighbouring threads take neighbouring j, so loads coalesce for m ≥ 32.

#include "grid_stride.cuh"

// Σ_t p[t·p_stride] · (q ? q[t·q_stride] : 1) for t = 0 .. count−1, in that order: the one serial reduction of every
// reducing kernel here (a column of a group, of the shared directions, or of the samples).
__device__ __forceinline__ float strided_dot(const float* p, long long p_stride, const float* q, long long q_stride,
                                             long long count) {
    float sum = 0.0f;
    for (long long t = 0; t < count; t++) sum += q ? p[t * p_stride] * q[t * q_stride] : p[t * p_stride];
    return sum;
}

extern "C" __global__ void ebm_grouped_reduce_f32(const float* x, const float* y, long long n, long long r, long long m,
                                                  float scale, int accumulate, float* out) {
    EBM_GRID_STRIDE(i, n * m) {
        long long b = i / m, j = i % m;
        float v = scale * strided_dot(x + b * r * m + j, m, y ? y + b * r * m + j : nullptr, m, r);
        out[i] = accumulate ? out[i] + v : v;
    }
}

extern "C" __global__ void ebm_grouped_broadcast_f32(const float* a, const float* t, long long n, long long r,
                                                     long long m, float scale, int accumulate, float* out) {
    EBM_GRID_STRIDE(i, n * r * m) {
        long long row = i / m, j = i % m, b = row / r;
        float v = scale * a[b * m + j];
        if (t) v *= t[i];
        out[i] = accumulate ? out[i] + v : v;
    }
}

extern "C" __global__ void ebm_shared_mul_f32(const float* a, const float* c, long long n, long long r, long long m,
                                              float* out) {
    EBM_GRID_STRIDE(i, n * r * m) {
        long long row = i / m, j = i % m, b = row / r, k = row % r;
        out[i] = a[b * m + j] * c[k * m + j];
    }
}

extern "C" __global__ void ebm_shared_mul_adjoint_a_f32(const float* g, const float* c, long long n, long long r,
                                                        long long m, float* ga) {
    EBM_GRID_STRIDE(i, n * m) {
        long long b = i / m, j = i % m;
        ga[i] += strided_dot(g + b * r * m + j, m, c + j, m, r); // over k: g[b·r+k, j] · c[k, j]
    }
}

extern "C" __global__ void ebm_shared_mul_adjoint_c_f32(const float* g, const float* a, long long n, long long r,
                                                        long long m, float* gc) {
    EBM_GRID_STRIDE(i, r * m) {
        long long k = i / m, j = i % m;
        gc[i] += strided_dot(g + k * m + j, r * m, a + j, m, n); // over b: g[b·r+k, j] · a[b, j]
    }
}
