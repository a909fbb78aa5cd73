package ebm.backend.cuda;

import ebm.model.MlpSpec;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import ebm.model.TraceAlgorithm;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The energy MLP on a {@link DeviceTape}: {@link ebm.model.Mlp}'s forward pass, input gradient and second-order
 * direction propagation, op for op, with the parameters as views of one flat fp32 device buffer (and their
 * adjoints as views of one flat gradient buffer, so collecting the gradient costs nothing).
 */
public final class DeviceMlp {
    private final MlpSpec spec;
    private final ParamLayout layout;
    /** The CPU model of the same shape: its choice of trace algorithm is the device's too. */
    private final ebm.model.Mlp reference;

    public DeviceMlp(MlpSpec spec) {
        this.spec = spec;
        this.layout = spec.layout();
        this.reference = new ebm.model.Mlp(spec);
    }

    public MlpSpec spec() {
        return spec;
    }

    public ParamLayout layout() {
        return layout;
    }

    /**
     * Coupled Newton–Schulz iterations for C = (W₁W₁ᵀ)^{1/2} and C⁻¹. After normalising by ‖W₁W₁ᵀ‖_F the product of
     * the two iterates' eigenvalues grows ×2.25 per step while small, then converges quadratically: 24 steps cover a
     * smallest normalised eigenvalue down to ~1e-7 (a condition number of W₁ up to ~3e3); parity tests print the
     * residual ‖C² − W₁W₁ᵀ‖/‖W₁W₁ᵀ‖.
     */
    public static final int ROW_SPACE_ITERATIONS = 24;

    /** The parameters at params (flat, fp32) on the tape; with grad != 0, their adjoints accumulate there. */
    public Bound bind(DeviceTape tape, long params, long grad) {
        return new Bound(tape, params, grad);
    }

    public final class Bound {
        private final DeviceTape tape;
        private final int layers = spec.layers();
        private final DeviceNode[] weight = new DeviceNode[layers];
        private final DeviceNode[] bias = new DeviceNode[layers];
        private final DeviceNode outWeight;
        private final DeviceNode outBias;
        private final Map<DeviceNode, Forward> forwards = new IdentityHashMap<>();
        /** Row-space factors on this tape: the leaf C (its adjoint separate) and the device address of C⁻¹. */
        private final Map<DeviceNode, Long> rowSpaceInverses = new IdentityHashMap<>();
        private final long gradW1;

        Bound(DeviceTape tape, long params, long grad) {
            this.tape = tape;
            for (int l = 0; l < layers; l++) {
                weight[l] = leaf(params, grad, layout.view(MlpSpec.weightName(l)));
                bias[l] = leaf(params, grad, layout.view(MlpSpec.biasName(l)));
            }
            outWeight = leaf(params, grad, layout.view("out.weight"));
            outBias = leaf(params, grad, layout.view("out.bias"));
            gradW1 = grad == 0 ? 0 : grad + 4L * layout.view(MlpSpec.weightName(0)).offset();
        }

        private DeviceNode leaf(long params, long grad, ParamView v) {
            long value = params + 4L * v.offset();
            return grad != 0 ? tape.variable(value, grad + 4L * v.offset(), v.rows(), v.cols())
                    : tape.constant(value, v.rows(), v.cols());
        }

        /** z_l, h_l, σ′(z_l), σ″(z_l) for every layer, computed once per input node. */
        private final class Forward {
            final DeviceNode[] h = new DeviceNode[layers + 1];
            final DeviceNode[] d1 = new DeviceNode[layers + 1];
            final DeviceNode[] d2 = new DeviceNode[layers + 1];

            Forward(DeviceNode x) {
                h[0] = x;
                for (int l = 1; l <= layers; l++) {
                    DeviceNode[] sigma = tape.biasActivations(spec.activation(), tape.matmulNT(h[l - 1], weight[l - 1]), bias[l - 1]);
                    h[l] = sigma[0];
                    d1[l] = sigma[1];
                    d2[l] = sigma[2];
                }
            }
        }

        private Forward forward(DeviceNode x) {
            if (x.cols != spec.inputDim()) {
                throw new IllegalArgumentException("input has " + x.cols + " columns, model expects " + spec.inputDim());
            }
            return forwards.computeIfAbsent(x, Forward::new);
        }

        /** E(x): [B x 1]. */
        public DeviceNode energy(DeviceNode x) {
            Forward f = forward(x);
            return tape.addRow(tape.matmulNT(f.h[layers], outWeight), outBias);
        }

        /** ∇ₓE(x): [B x D]. */
        public DeviceNode gradX(DeviceNode x) {
            Forward f = forward(x);
            DeviceNode gh = tape.repeatRows(outWeight, x.rows);
            for (int l = layers; l >= 1; l--) {
                DeviceNode gz = tape.mul(gh, f.d1[l]);
                gh = tape.matmulNN(gz, weight[l - 1]);
            }
            return gh;
        }

        /** Carries (∂h, Σ second derivative) from layer 1 to the output; dH and lapH describe h₁. */
        private DeviceNode[] propagate(Forward f, int batch, DeviceNode dH, DeviceNode lapH) {
            for (int l = 2; l <= layers; l++) {
                DeviceNode dZ = tape.matmulNT(dH, weight[l - 1]);
                DeviceNode lapZ = tape.matmulNT(lapH, weight[l - 1]);
                dH = tape.groupMul(f.d1[l], dZ);
                lapH = tape.add(tape.mul(f.d1[l], lapZ), tape.mul(f.d2[l], tape.groupSumSquares(dZ, batch)));
            }
            return new DeviceNode[] {tape.matmulNT(dH, outWeight), tape.matmulNT(lapH, outWeight)};
        }

        /**
         * Along per-sample directions v ([B*r x D]): {vᵀ∇ₓE [B*r x 1], Σ over each sample's directions of vᵀ∇²ₓE v
         * [B x 1]}.
         */
        public DeviceNode[] alongDirections(DeviceNode x, DeviceNode v) {
            Forward f = forward(x);
            DeviceNode dZ1 = tape.matmulNT(v, weight[0]);
            DeviceNode dH1 = tape.groupMul(f.d1[1], dZ1);
            DeviceNode lapH1 = tape.mul(f.d2[1], tape.groupSumSquares(dZ1, x.rows));
            return propagate(f, x.rows, dH1, lapH1);
        }

        /**
         * Along per-sample directions v ([B*r x D]): vᵀ∇ₓE [B*r x 1] alone, the first-order half of
         * {@link #alongDirections} (Hutch++'s Hessian-vector products differentiate it with respect to x).
         */
        public DeviceNode directionalDerivatives(DeviceNode x, DeviceNode v) {
            Forward f = forward(x);
            DeviceNode dH = tape.groupMul(f.d1[1], tape.matmulNT(v, weight[0]));
            for (int l = 2; l <= layers; l++) dH = tape.groupMul(f.d1[l], tape.matmulNT(dH, weight[l - 1]));
            return tape.matmulNT(dH, outWeight);
        }

        /**
         * Exact {ΔE [B x 1], ‖∇ₓE‖² [B x 1]}: per-dimension (the columns of W₁ as directions at z₁) or row-space (the
         * rows of C = (W₁W₁ᵀ)^{1/2}; call {@link #finishGradient()} after the backward sweep).
         */
        public DeviceNode[] exact(DeviceNode x, TraceAlgorithm algorithm) {
            Forward f = forward(x);
            DeviceNode directionsAtZ1 = reference.usesRowSpace(algorithm) ? rowSpaceFactor() : tape.transpose(weight[0]);
            DeviceNode dH1 = tape.sharedMul(f.d1[1], directionsAtZ1);
            DeviceNode lapH1 = tape.mulRow(f.d2[1], tape.colSumSquares(directionsAtZ1));
            DeviceNode[] d = propagate(f, x.rows, dH1, lapH1);
            return new DeviceNode[] {d[1], tape.groupSumSquares(d[0], x.rows)};
        }

        /**
         * C = (W₁W₁ᵀ)^{1/2} (symmetric, so it is its own C_T) and C⁻¹ by the coupled Newton–Schulz iteration
         * Y₀ = A/‖A‖_F, Z₀ = I, T = (3I − ZY)/2, Y ← YT, Z ← TZ (GEMMs only; the −1/2 and 3/2 folded into α/β),
         * then C = Y‖A‖_F^{1/2}, C⁻¹ = Z‖A‖_F^{−1/2}. C enters the tape as a leaf of its own; its adjoint reaches W₁
         * as (∂J/∂C_T)ᵀ C⁻¹ W₁ = (∂J/∂C_T)ᵀ Qᵀ in finishGradient, with Q = W₁ᵀC⁻¹ (orthonormal columns).
         */
        private DeviceNode rowSpaceFactor() {
            int d = spec.inputDim(), h = spec.width(1);
            long hh = (long) h * h;
            long w1 = weight[0].value;
            long a = tape.allocate(hh, "row-space W1 W1^T");
            tape.gemm(false, true, h, h, d, 1f, w1, d, w1, d, 0f, a, h);
            long normSquared = tape.allocate(1, "row-space norm");
            tape.dot(a, a, hh, normSquared);
            long y = tape.allocate(hh, "Newton-Schulz Y"), z = tape.allocate(hh, "Newton-Schulz Z");
            long t = tape.allocate(hh, "Newton-Schulz T");
            long yNext = tape.allocate(hh, "Newton-Schulz Y"), zNext = tape.allocate(hh, "Newton-Schulz Z");
            tape.launch("ebm_scale_by_power_f32", hh, k -> k.i64(a).i64(hh).i64(normSquared).f32(-0.5f).i64(y));
            tape.launch("ebm_set_identity_f32", hh, k -> k.i64(z).i64(h).f32(1f));
            for (int it = 0; it < ROW_SPACE_ITERATIONS; it++) {
                long yIn = it % 2 == 0 ? y : yNext, zIn = it % 2 == 0 ? z : zNext;
                long yOut = it % 2 == 0 ? yNext : y, zOut = it % 2 == 0 ? zNext : z;
                tape.launch("ebm_set_identity_f32", hh, k -> k.i64(t).i64(h).f32(1.5f));
                tape.gemm(false, false, h, h, h, -0.5f, zIn, h, yIn, h, 1f, t, h);
                tape.gemm(false, false, h, h, h, 1f, yIn, h, t, h, 0f, yOut, h);
                tape.gemm(false, false, h, h, h, 1f, t, h, zIn, h, 0f, zOut, h);
            }
            long yFinal = ROW_SPACE_ITERATIONS % 2 == 0 ? y : yNext, zFinal = ROW_SPACE_ITERATIONS % 2 == 0 ? z : zNext;
            long c = tape.allocate(hh, "row-space factor C"), cInverse = tape.allocate(hh, "row-space factor C^-1");
            tape.launch("ebm_scale_by_power_f32", hh, k -> k.i64(yFinal).i64(hh).i64(normSquared).f32(0.25f).i64(c));
            tape.launch("ebm_scale_by_power_f32", hh, k -> k.i64(zFinal).i64(hh).i64(normSquared).f32(-0.25f).i64(cInverse));
            if (!weight[0].requiresGrad) return tape.constant(c, h, h);
            long gradC = tape.allocate(hh, "row-space factor adjoint");
            tape.launch("ebm_fill_f32", hh, k -> k.i64(gradC).i64(hh).f32(0f));
            DeviceNode factor = tape.variable(c, gradC, h, h);
            rowSpaceInverses.put(factor, cInverse);
            return factor;
        }

        /** Adds each row-space factor's adjoint to W₁'s: gW₁ += (∂J/∂C_T)ᵀ C⁻¹ W₁. Call after the backward sweep. */
        public void finishGradient() {
            int d = spec.inputDim(), h = spec.width(1);
            for (Map.Entry<DeviceNode, Long> e : rowSpaceInverses.entrySet()) {
                long product = tape.allocate((long) h * h, "row-space adjoint product");
                tape.gemm(true, false, h, h, h, 1f, e.getKey().gradAddress(), h, e.getValue(), h, 0f, product, h);
                tape.gemm(false, false, h, d, h, 1f, product, h, weight[0].value, d, 1f, gradW1, d);
            }
        }
    }
}
