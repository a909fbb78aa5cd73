package ebm.model;

import ebm.backend.cpu.Gemm;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.tape.Node;
import ebm.tape.Tape;
import java.util.IdentityHashMap;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/**
 * The energy MLP of DESIGN §3: h₀ = x, z_l = W_l h_{l−1} + b_l, h_l = σ(z_l), E = wᵀh_L + c.
 * All second-order quantities go through one propagation of (∂h along r directions, Σ_dirs second derivative)
 * that starts at z₁: per-sample probes enter as W₁v; exact traces enter as the columns of a factor C of W₁W₁ᵀ
 * shared by every sample (C = W₁ for per-dimension, C = Rᵀ from W₁ᵀ = QR for row-space).
 */
public final class Mlp implements EnergyModel {
    private final MlpSpec spec;
    private final ParamLayout layout;

    public Mlp(MlpSpec spec) {
        this.spec = spec;
        this.layout = spec.layout();
    }

    public MlpSpec spec() {
        return spec;
    }

    @Override
    public int dim() {
        return spec.inputDim();
    }

    @Override
    public ParamLayout layout() {
        return layout;
    }

    /** PyTorch Linear's default: weights and biases uniform in ±1/sqrt(fan_in), drawn from the INIT stream. */
    @Override
    public double[] initialParams(long seed) {
        RandomStream rng = new RandomStream(seed, 0, Streams.INIT);
        double[] params = new double[layout.size()];
        for (ParamView v : layout.views()) {
            int fanIn = v.role() == ParamView.Role.OUTPUT_BIAS ? spec.width(spec.layers())
                    : v.role() == ParamView.Role.BIAS ? spec.width(layerOf(v))
                    : v.cols();
            double bound = 1.0 / Math.sqrt(fanIn);
            for (int i = 0; i < v.size(); i++) {
                int idx = v.offset() + i;
                params[idx] = bound * (2 * rng.uniform(idx) - 1);
            }
        }
        return params;
    }

    private int layerOf(ParamView bias) {
        return Integer.parseInt(bias.name().split("\\.")[1]);
    }

    /** The cheaper exact algorithm for these shapes: row-space carries min(D, H₁) directions instead of D. */
    public TraceAlgorithm resolve(TraceAlgorithm algorithm) {
        if (algorithm != TraceAlgorithm.AUTO) return algorithm;
        return spec.inputDim() > spec.width(1) ? TraceAlgorithm.ROW_SPACE : TraceAlgorithm.PER_DIMENSION;
    }

    /** Whether the exact trace starts from a row-space factor: only when asked (or auto) and D > H₁, else it is per-dimension. */
    public boolean usesRowSpace(TraceAlgorithm algorithm) {
        return resolve(algorithm) == TraceAlgorithm.ROW_SPACE && spec.inputDim() > spec.width(1);
    }

    @Override
    public BoundEnergy bind(Tape tape, double[] params, boolean trainable) {
        return new Bound(tape, params, trainable);
    }

    private final class Bound implements BoundEnergy {
        private final Tape tape;
        private final int layers = spec.layers();
        private final Node[] weight = new Node[layers];
        private final Node[] bias = new Node[layers];
        private final Node outWeight;
        private final Node outBias;
        private final Map<Node, Forward> forwards = new IdentityHashMap<>();
        /** Row-space factors placed on this tape: C_T = R (a leaf) and the Q that maps its adjoint back to W₁. */
        private final Map<Node, double[]> rowSpaceBases = new IdentityHashMap<>();

        Bound(Tape tape, double[] params, boolean trainable) {
            this.tape = tape;
            for (int l = 0; l < layers; l++) {
                weight[l] = leaf(params, layout.view(MlpSpec.weightName(l)), trainable);
                bias[l] = leaf(params, layout.view(MlpSpec.biasName(l)), trainable);
            }
            outWeight = leaf(params, layout.view("out.weight"), trainable);
            outBias = leaf(params, layout.view("out.bias"), trainable);
        }

        private Node leaf(double[] params, ParamView v, boolean trainable) {
            double[] value = new double[v.size()];
            System.arraycopy(params, v.offset(), value, 0, v.size());
            return trainable ? tape.variable(value, v.rows(), v.cols()) : tape.constant(value, v.rows(), v.cols());
        }

        /** z_l, h_l, σ′(z_l), σ″(z_l) for every layer, computed once per input node. */
        private final class Forward {
            final Node[] h = new Node[layers + 1];
            final Node[] d1 = new Node[layers + 1];
            final Node[] d2 = new Node[layers + 1];

            Forward(Node x) {
                h[0] = x;
                for (int l = 1; l <= layers; l++) {
                    Node z = tape.addRow(tape.matmulNT(h[l - 1], weight[l - 1]), bias[l - 1]);
                    Node[] sigma = tape.activations(spec.activation(), z);
                    h[l] = sigma[0];
                    d1[l] = sigma[1];
                    d2[l] = sigma[2];
                }
            }
        }

        private Forward forward(Node x) {
            if (x.cols != spec.inputDim()) {
                throw new IllegalArgumentException("input has " + x.cols + " columns, model expects " + spec.inputDim());
            }
            return forwards.computeIfAbsent(x, Forward::new);
        }

        @Override
        public Node energy(Node x) {
            Forward f = forward(x);
            return tape.addRow(tape.matmulNT(f.h[layers], outWeight), outBias);
        }

        @Override
        public Node gradX(Node x) {
            Forward f = forward(x);
            Node gh = tape.repeatRows(outWeight, x.rows);
            for (int l = layers; l >= 1; l--) {
                Node gz = tape.mul(gh, f.d1[l]);
                gh = tape.matmulNN(gz, weight[l - 1]);
            }
            return gh;
        }

        /** Carries (∂h, Σ second derivative) from layer 1 to the output; dH1 and lapH1 describe h₁. */
        private Directional propagate(Forward f, int batch, Node dH, Node lapH) {
            for (int l = 2; l <= layers; l++) {
                Node dZ = tape.matmulNT(dH, weight[l - 1]);
                Node lapZ = tape.matmulNT(lapH, weight[l - 1]);
                dH = tape.groupMul(f.d1[l], dZ);
                lapH = tape.add(tape.mul(f.d1[l], lapZ), tape.mul(f.d2[l], tape.groupSumSquares(dZ, batch)));
            }
            return new Directional(tape.matmulNT(dH, outWeight), tape.matmulNT(lapH, outWeight));
        }

        @Override
        public Directional alongDirections(Node x, Node v, int directionsPerSample) {
            Forward f = forward(x);
            Node dZ1 = tape.matmulNT(v, weight[0]);
            Node dH1 = tape.groupMul(f.d1[1], dZ1);
            Node lapH1 = tape.mul(f.d2[1], tape.groupSumSquares(dZ1, x.rows));
            return propagate(f, x.rows, dH1, lapH1);
        }

        /** Rows of C_T are the directions at z₁ shared by every sample; Δz₁ = 0 because z₁ is affine in x. */
        private Directional alongSharedDirections(Node x, Node directionsAtZ1) {
            Forward f = forward(x);
            Node dH1 = tape.sharedMul(f.d1[1], directionsAtZ1);
            Node lapH1 = tape.mulRow(f.d2[1], tape.colSumSquares(directionsAtZ1));
            return propagate(f, x.rows, dH1, lapH1);
        }

        @Override
        public Exact exact(Node x, TraceAlgorithm algorithm) {
            Node directionsAtZ1 = usesRowSpace(algorithm)
                    ? rowSpaceFactor()
                    : tape.transpose(weight[0]);
            Directional d = alongSharedDirections(x, directionsAtZ1);
            return new Exact(d.secondDerivativeSum(), tape.groupSumSquares(d.firstDerivatives(), x.rows));
        }

        /**
         * C_T = R from the thin QR W₁ᵀ = QR (D > H₁): then C = Rᵀ = W₁Q satisfies CCᵀ = W₁W₁ᵀ. The loss depends on
         * C only through CCᵀ, so its gradient reaches W₁ as (∂J/∂C)Qᵀ (added in collectGrad).
         */
        private Node rowSpaceFactor() {
            int d = spec.inputDim(), h1 = spec.width(1);
            DMatrixRMaj w1t = new DMatrixRMaj(d, h1);
            double[] w1 = weight[0].value;
            for (int i = 0; i < h1; i++) for (int j = 0; j < d; j++) w1t.unsafe_set(j, i, w1[i * d + j]);
            QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(d, h1);
            // false only when a column of W₁ᵀ (a hidden unit's input weights) is exactly dependent on the ones before
            // it, a zero row of W₁ say: its reflector is then the identity, so Q stays orthonormal, its columns still
            // span W₁'s rows (W₁QQᵀ = W₁) and CCᵀ = W₁W₁ᵀ with its gradient hold as they are.
            qr.decompose(w1t);
            DMatrixRMaj q = qr.getQ(null, true);
            DMatrixRMaj r = qr.getR(null, true);
            Node factor = weight[0].requiresGrad()
                    ? tape.variable(r.getData().clone(), h1, h1)
                    : tape.constant(r.getData().clone(), h1, h1);
            rowSpaceBases.put(factor, q.getData().clone());
            return factor;
        }

        @Override
        public double[] hessianDiagonal(Node x) {
            Forward f = forward(x);
            int batch = x.rows, d = spec.inputDim();
            // Per-direction (not summed) second derivatives along e_1..e_D: ∂²h = σ′⊙∂²z + σ″⊙(∂z)².
            Node c = tape.transpose(weight[0]);
            Node dH = tape.sharedMul(f.d1[1], c);
            Node ddH = tape.sharedMul(f.d2[1], tape.mul(c, c));
            for (int l = 2; l <= layers; l++) {
                Node dZ = tape.matmulNT(dH, weight[l - 1]);
                Node ddZ = tape.matmulNT(ddH, weight[l - 1]);
                dH = tape.groupMul(f.d1[l], dZ);
                ddH = tape.add(tape.groupMul(f.d1[l], ddZ), tape.groupMul(f.d2[l], tape.mul(dZ, dZ)));
            }
            double[] diag = tape.matmulNT(ddH, outWeight).value;
            if (diag.length != batch * d) throw new IllegalStateException("hessian diagonal shape");
            return diag;
        }

        @Override
        public void collectGrad(double[] grad) {
            for (int l = 0; l < layers; l++) {
                copy(weight[l], layout.view(MlpSpec.weightName(l)), grad);
                copy(bias[l], layout.view(MlpSpec.biasName(l)), grad);
            }
            copy(outWeight, layout.view("out.weight"), grad);
            copy(outBias, layout.view("out.bias"), grad);
            ParamView w1 = layout.view(MlpSpec.weightName(0));
            int d = spec.inputDim(), h1 = spec.width(1);
            for (Map.Entry<Node, double[]> e : rowSpaceBases.entrySet()) {
                // gW₁ [H₁ x D] += (gC_T)ᵀ [H₁ x H₁] · Qᵀ [H₁ x D], with Q stored [D x H₁].
                Gemm.gemm(true, true, h1, d, h1, 1, e.getKey().grad(), 0, h1, e.getValue(), 0, h1, 1, grad, w1.offset(), d);
            }
        }

        private void copy(Node leaf, ParamView v, double[] grad) {
            System.arraycopy(leaf.grad(), 0, grad, v.offset(), v.size());
        }
    }
}
