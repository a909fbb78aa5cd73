// elementwise.cu — the device tape's elementwise and row-broadcast ops and their adjoints (ebm.tape.Tape's
// combine/scale/mul/addRow/mulRow/transpose, mirrored op for op by ebm.backend.cuda.tape.DeviceTape), plus the fills and
// the gradient-clipping scale of the training step, and the fp32 → fp64 widening of Shampoo's dgemm operand. fp32,
// row-major [rows x cols] like the CPU tape.
// `accumulate` (0 or 1) chooses out = f or out += f: adjoints accumulate, forward ops overwrite.
//   version 1: grid-stride, one element per thread iteration; row broadcasts index the row vector by i % cols.
#include "grid_stride.cuh"


extern "C" __global__ void ebm_fill_f32(float* out, long long n, float value) {
    EBM_GRID_STRIDE(i, n) out[i] = value;
}

// out ⊕= alpha·a + beta·b; b may be null (then out ⊕= alpha·a).
extern "C" __global__ void ebm_combine_f32(const float* a, const float* b, long long n, float alpha, float beta,
                                           int accumulate, float* out) {
    EBM_GRID_STRIDE(i, n) {
        float v = alpha * a[i];
        if (b) v += beta * b[i];
        out[i] = accumulate ? out[i] + v : v;
    }
}

// out ⊕= a ⊙ b.
extern "C" __global__ void ebm_mul_f32(const float* a, const float* b, long long n, int accumulate, float* out) {
    EBM_GRID_STRIDE(i, n) {
        float v = a[i] * b[i];
        out[i] = accumulate ? out[i] + v : v;
    }
}

// out[r, c] ⊕= a[r, c] + row[c] (addRow).
extern "C" __global__ void ebm_add_row_f32(const float* a, const float* row, long long rows, long long cols, float* out) {
    EBM_GRID_STRIDE(i, rows * cols) out[i] = a[i] + row[i % cols];
}

// out[r, c] ⊕= a[r, c] · row[c] (mulRow, and its adjoint for a).
extern "C" __global__ void ebm_mul_row_f32(const float* a, const float* row, long long rows, long long cols,
                                           int accumulate, float* out) {
    EBM_GRID_STRIDE(i, rows * cols) {
        float v = a[i] * row[i % cols];
        out[i] = accumulate ? out[i] + v : v;
    }
}

// out[c, r] ⊕= a[r, c]: out is [cols x rows].
extern "C" __global__ void ebm_transpose_f32(const float* a, long long rows, long long cols, int accumulate, float* out) {
    EBM_GRID_STRIDE(i, rows * cols) {
        long long r = i / cols, c = i % cols;
        float v = a[i];
        long long o = c * rows + r;
        out[o] = accumulate ? out[o] + v : v;
    }
}

// out = (double)x: fp32 values to fp64 once, for fp64 GEMMs on them (Shampoo's statistics; exact).
extern "C" __global__ void ebm_widen_f32_f64(const float* x, long long n, double* out) {
    EBM_GRID_STRIDE(i, n) out[i] = (double)x[i];
}

// Gradient clipping without a host round trip: g ← g · min(1, clip/‖g‖), reading ‖g‖² from device memory.
extern "C" __global__ void ebm_clip_scale_f32(float* g, long long n, const float* norm_squared, float clip) {
    const float norm = sqrtf(*norm_squared);
    if (!(norm > clip)) return; // also leaves NaN norms alone: the host stops the run on them
    const float s = clip / norm;
    EBM_GRID_STRIDE(i, n) g[i] *= s;
}
