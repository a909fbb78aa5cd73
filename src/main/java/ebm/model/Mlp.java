package ebm.model;

import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.tape.Ops;
import ebm.tape.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The energy MLP (checkpoint format ebm-mlp-v1): h₀ = x, z_l = W_l h_{l−1} + b_l, h_l = σ(z_l), E = wᵀh_L + c, written
 * once over the {@link Ops} primitives. All second-order quantities go through one propagation of (∂h along r
 * directions, Σ_dirs second derivative) that starts at z₁: per-sample probes enter as W₁v; exact traces enter as the
 * columns of a factor C of W₁W₁ᵀ shared by every sample (C = W₁ for per-dimension; for row-space the backend's
 * {@link Parameters#rowSpaceFactor}).
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
    public <T extends Tensor> BoundEnergy<T> bind(Ops<T> ops, Parameters<T> params) {
        return new Bound<>(ops, params);
    }

    private final class Bound<T extends Tensor> implements BoundEnergy<T> {
        private final Ops<T> ops;
        private final Parameters<T> params;
        private final int layers = spec.layers();
        private final List<T> weight = new ArrayList<>(layers);
        private final List<T> bias = new ArrayList<>(layers);
        private final T outWeight;
        private final T outBias;
        private final Map<T, Forward> forwards = new IdentityHashMap<>();

        Bound(Ops<T> ops, Parameters<T> params) {
            this.ops = ops;
            this.params = params;
            for (int l = 0; l < layers; l++) {
                weight.add(params.leaf(layout.view(MlpSpec.weightName(l))));
                bias.add(params.leaf(layout.view(MlpSpec.biasName(l))));
            }
            outWeight = params.leaf(layout.view("out.weight"));
            outBias = params.leaf(layout.view("out.bias"));
        }

        /** z_l, h_l, σ′(z_l), σ″(z_l) for every layer, computed once per input. */
        private final class Forward {
            final List<T> h = new ArrayList<>(), d1 = new ArrayList<>(), d2 = new ArrayList<>();

            Forward(T x) {
                h.add(x);
                d1.add(null);
                d2.add(null);
                for (int l = 1; l <= layers; l++) {
                    Ops.Activations<T> sigma = ops.biasActivations(spec.activation(), ops.matmulNT(h.get(l - 1), weight.get(l - 1)), bias.get(l - 1));
                    h.add(sigma.value());
                    d1.add(sigma.first());
                    d2.add(sigma.second());
                }
            }
        }

        private Forward forward(T x) {
            if (x.cols() != spec.inputDim()) {
                throw new IllegalArgumentException("input has " + x.cols() + " columns, model expects " + spec.inputDim());
            }
            return forwards.computeIfAbsent(x, Forward::new);
        }

        @Override
        public T energy(T x) {
            Forward f = forward(x);
            return ops.addRow(ops.matmulNT(f.h.get(layers), outWeight), outBias);
        }

        @Override
        public T gradX(T x) {
            Forward f = forward(x);
            T gh = ops.repeatRows(outWeight, x.rows());
            for (int l = layers; l >= 1; l--) {
                T gz = ops.mul(gh, f.d1.get(l));
                gh = ops.matmulNN(gz, weight.get(l - 1));
            }
            return gh;
        }

        /** Carries (∂h, Σ second derivative) from layer 1 to the output; dH and lapH describe h₁. */
        private Directional<T> propagate(Forward f, int batch, T dH, T lapH) {
            for (int l = 2; l <= layers; l++) {
                T dZ = ops.matmulNT(dH, weight.get(l - 1));
                T lapZ = ops.matmulNT(lapH, weight.get(l - 1));
                dH = ops.groupMul(f.d1.get(l), dZ);
                lapH = ops.add(ops.mul(f.d1.get(l), lapZ), ops.mul(f.d2.get(l), ops.groupSumSquares(dZ, batch)));
            }
            return new Directional<>(ops.matmulNT(dH, outWeight), ops.matmulNT(lapH, outWeight));
        }

        @Override
        public Directional<T> alongDirections(T x, T v, int directionsPerSample) {
            Forward f = forward(x);
            T dZ1 = ops.matmulNT(v, weight.get(0));
            T dH1 = ops.groupMul(f.d1.get(1), dZ1);
            T lapH1 = ops.mul(f.d2.get(1), ops.groupSumSquares(dZ1, x.rows()));
            return propagate(f, x.rows(), dH1, lapH1);
        }

        @Override
        public T directionalDerivatives(T x, T v, int directionsPerSample) {
            Forward f = forward(x);
            T dH = ops.groupMul(f.d1.get(1), ops.matmulNT(v, weight.get(0)));
            for (int l = 2; l <= layers; l++) dH = ops.groupMul(f.d1.get(l), ops.matmulNT(dH, weight.get(l - 1)));
            return ops.matmulNT(dH, outWeight);
        }

        /** Rows of C_T are the directions at z₁ shared by every sample; Δz₁ = 0 because z₁ is affine in x. */
        @Override
        public Exact<T> exact(T x, TraceAlgorithm algorithm) {
            T directionsAtZ1 = usesRowSpace(algorithm)
                    ? params.rowSpaceFactor(layout.view(MlpSpec.weightName(0)))
                    : ops.transpose(weight.get(0));
            Forward f = forward(x); // after the directions, as the tape has always recorded them (the same sums, bit for bit)
            T dH1 = ops.sharedMul(f.d1.get(1), directionsAtZ1);
            T lapH1 = ops.mulRow(f.d2.get(1), ops.colSumSquares(directionsAtZ1));
            Directional<T> d = propagate(f, x.rows(), dH1, lapH1);
            return new Exact<>(d.secondDerivativeSum(), ops.groupSumSquares(d.firstDerivatives(), x.rows()));
        }

        @Override
        public T hessianDiagonal(T x) {
            Forward f = forward(x);
            // Per-direction (not summed) second derivatives along e_1..e_D: ∂²h = σ′⊙∂²z + σ″⊙(∂z)².
            T c = ops.transpose(weight.get(0));
            T dH = ops.sharedMul(f.d1.get(1), c);
            T ddH = ops.sharedMul(f.d2.get(1), ops.mul(c, c));
            for (int l = 2; l <= layers; l++) {
                T dZ = ops.matmulNT(dH, weight.get(l - 1));
                T ddZ = ops.matmulNT(ddH, weight.get(l - 1));
                dH = ops.groupMul(f.d1.get(l), dZ);
                ddH = ops.add(ops.groupMul(f.d1.get(l), ddZ), ops.groupMul(f.d2.get(l), ops.mul(dZ, dZ)));
            }
            return ops.matmulNT(ddH, outWeight);
        }
    }
}
