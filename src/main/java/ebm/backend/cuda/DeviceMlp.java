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

    public DeviceMlp(MlpSpec spec) {
        this.spec = spec;
        this.layout = spec.layout();
    }

    public MlpSpec spec() {
        return spec;
    }

    public ParamLayout layout() {
        return layout;
    }

    /** Which exact algorithm runs on the device for these shapes. */
    public TraceAlgorithm resolve(TraceAlgorithm algorithm) {
        TraceAlgorithm resolved = algorithm != TraceAlgorithm.AUTO ? algorithm
                : spec.inputDim() > spec.width(1) ? TraceAlgorithm.ROW_SPACE : TraceAlgorithm.PER_DIMENSION;
        if (resolved == TraceAlgorithm.ROW_SPACE && spec.inputDim() > spec.width(1)) {
            throw new ebm.EbmException("objective.trace: row-space is not available on backend cuda yet (D = "
                    + spec.inputDim() + " > H1 = " + spec.width(1) + "); set objective.trace: per-dimension, or use backend: cpu");
        }
        return TraceAlgorithm.PER_DIMENSION;
    }

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

        Bound(DeviceTape tape, long params, long grad) {
            this.tape = tape;
            for (int l = 0; l < layers; l++) {
                weight[l] = leaf(params, grad, layout.view(MlpSpec.weightName(l)));
                bias[l] = leaf(params, grad, layout.view(MlpSpec.biasName(l)));
            }
            outWeight = leaf(params, grad, layout.view("out.weight"));
            outBias = leaf(params, grad, layout.view("out.bias"));
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

        /** Exact {ΔE [B x 1], ‖∇ₓE‖² [B x 1]} by per-dimension propagation (the columns of W₁ as directions at z₁). */
        public DeviceNode[] exact(DeviceNode x) {
            Forward f = forward(x);
            DeviceNode directionsAtZ1 = tape.transpose(weight[0]);
            DeviceNode dH1 = tape.sharedMul(f.d1[1], directionsAtZ1);
            DeviceNode lapH1 = tape.mulRow(f.d2[1], tape.colSumSquares(directionsAtZ1));
            DeviceNode[] d = propagate(f, x.rows, dH1, lapH1);
            return new DeviceNode[] {d[1], tape.groupSumSquares(d[0], x.rows)};
        }
    }
}
