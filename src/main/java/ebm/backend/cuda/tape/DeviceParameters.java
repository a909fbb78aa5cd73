package ebm.backend.cuda.tape;

import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.model.ParamView;
import ebm.model.Parameters;
import java.util.ArrayList;
import java.util.List;

/**
 * The parameters on the device tape: views of one flat fp32 buffer (and, when trained, their adjoints views of one
 * flat gradient buffer, so collecting the gradient costs nothing), and the row-space factor C = (WWᵀ)^{1/2} with C⁻¹
 * from a coupled Newton–Schulz iteration (GEMMs only, the machinery Muon already needs).
 */
public final class DeviceParameters implements Parameters<DeviceNode> {
    /**
     * Coupled Newton–Schulz iterations for C = (W₁W₁ᵀ)^{1/2} and C⁻¹. After normalising by ‖W₁W₁ᵀ‖_F the product of
     * the two iterates' eigenvalues grows ×2.25 per step while small, then converges quadratically: 24 steps cover a
     * smallest normalised eigenvalue down to ~1e-7 (a condition number of W₁ up to ~3e3); parity tests print the
     * residual ‖C² − W₁W₁ᵀ‖/‖W₁W₁ᵀ‖.
     */
    public static final int ROW_SPACE_ITERATIONS = 24;

    private final DeviceTape tape;
    private final long params;
    private final long grad;
    /** Row-space factors on this tape: the leaf C (its adjoint separate), the device address of C⁻¹, and W's view. */
    private final List<RowSpace> rowSpaces = new ArrayList<>();

    private record RowSpace(DeviceNode factor, long inverse, ParamView weight) {}

    /** The parameters at params (flat, fp32); with grad != 0 (zeroed by the caller) their adjoints accumulate there. */
    public DeviceParameters(DeviceTape tape, long params, long grad) {
        this.tape = tape;
        this.params = params;
        this.grad = grad;
    }

    @Override
    public DeviceNode leaf(ParamView v) {
        long value = params + 4L * v.offset();
        return grad != 0 ? tape.variable(value, grad + 4L * v.offset(), v.rows(), v.cols()) : tape.constant(value, v.rows(), v.cols());
    }

    /**
     * C = (WWᵀ)^{1/2} (symmetric, so it is its own C_T) and C⁻¹ by the coupled Newton–Schulz iteration
     * Y₀ = A/‖A‖_F, Z₀ = I, T = (3I − ZY)/2, Y ← YT, Z ← TZ (the −1/2 and 3/2 folded into GEMM α/β), then
     * C = Y‖A‖_F^{1/2}, C⁻¹ = Z‖A‖_F^{−1/2}. C enters the tape as a leaf of its own; its adjoint reaches W as
     * (∂J/∂C_T)ᵀ C⁻¹ W = (∂J/∂C_T)ᵀ Qᵀ in {@link #finishGradient}, with Q = WᵀC⁻¹ (orthonormal columns).
     */
    @Override
    public DeviceNode rowSpaceFactor(ParamView weight) {
        int h = weight.rows(), d = weight.cols();
        long hh = (long) h * h;
        long w = params + 4L * weight.offset();
        long a = tape.allocate(hh, "row-space W W^T");
        tape.gemm(false, true, h, h, d, 1f, w, d, w, d, 0f, a, h);
        long normSquared = tape.allocate(1, "row-space norm");
        tape.dot(a, a, hh, normSquared);
        long y = tape.allocate(hh, "Newton-Schulz Y"), z = tape.allocate(hh, "Newton-Schulz Z");
        long t = tape.allocate(hh, "Newton-Schulz T");
        long yNext = tape.allocate(hh, "Newton-Schulz Y"), zNext = tape.allocate(hh, "Newton-Schulz Z");
        DeviceKernels kernels = tape.kernels();
        kernels.scaleByPowerF32(Grid.over(hh), a, hh, normSquared, -0.5f, y);
        kernels.setIdentityF32(Grid.over(hh), z, h, 1f);
        for (int it = 0; it < ROW_SPACE_ITERATIONS; it++) {
            long yIn = it % 2 == 0 ? y : yNext, zIn = it % 2 == 0 ? z : zNext;
            long yOut = it % 2 == 0 ? yNext : y, zOut = it % 2 == 0 ? zNext : z;
            kernels.setIdentityF32(Grid.over(hh), t, h, 1.5f);
            tape.gemm(false, false, h, h, h, -0.5f, zIn, h, yIn, h, 1f, t, h);
            tape.gemm(false, false, h, h, h, 1f, yIn, h, t, h, 0f, yOut, h);
            tape.gemm(false, false, h, h, h, 1f, t, h, zIn, h, 0f, zOut, h);
        }
        long yFinal = ROW_SPACE_ITERATIONS % 2 == 0 ? y : yNext, zFinal = ROW_SPACE_ITERATIONS % 2 == 0 ? z : zNext;
        long c = tape.allocate(hh, "row-space factor C"), cInverse = tape.allocate(hh, "row-space factor C^-1");
        kernels.scaleByPowerF32(Grid.over(hh), yFinal, hh, normSquared, 0.25f, c);
        kernels.scaleByPowerF32(Grid.over(hh), zFinal, hh, normSquared, -0.25f, cInverse);
        if (grad == 0) return tape.constant(c, h, h);
        long gradC = tape.allocate(hh, "row-space factor adjoint");
        tape.fill(gradC, hh, 0f);
        DeviceNode factor = tape.variable(c, gradC, h, h);
        rowSpaces.add(new RowSpace(factor, cInverse, weight));
        return factor;
    }

    /** Adds each row-space factor's adjoint to its weight's: gW += (∂J/∂C_T)ᵀ C⁻¹ W. Call after the backward sweep. */
    public void finishGradient() {
        for (RowSpace rs : rowSpaces) {
            int h = rs.weight.rows(), d = rs.weight.cols();
            long w = params + 4L * rs.weight.offset(), gradW = grad + 4L * rs.weight.offset();
            long product = tape.allocate((long) h * h, "row-space adjoint product");
            tape.gemm(true, false, h, h, h, 1f, rs.factor.gradAddress(), h, rs.inverse, h, 0f, product, h);
            tape.gemm(false, false, h, d, h, 1f, product, h, w, d, 1f, gradW, d);
        }
    }
}
