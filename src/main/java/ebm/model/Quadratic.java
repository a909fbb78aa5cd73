package ebm.model;

import ebm.EbmException;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/**
 * E(x) = ½(x−μ)ᵀM(x−μ) with M = AAᵀ + δI (δ > 0 fixed): the known-answer model. ∇E = M(x−μ), ∇²E = M,
 * ΔE = ‖A‖_F² + δD. Exact score matching on samples is minimised at μ = sample mean, M = S⁻¹.
 * Parameters: A [D x D] (routed like a hidden weight matrix) and μ [1 x D]. Starts at A = I, μ = 0.
 */
public final class Quadratic implements EnergyModel {
    private final int dim;
    private final double delta;
    private final ParamLayout layout;

    public Quadratic(int dim, double delta) {
        if (dim <= 0) throw new EbmException("quadratic model dimension must be positive, got " + dim);
        if (!(delta > 0)) throw new EbmException("model.delta must be > 0, got " + delta);
        this.dim = dim;
        this.delta = delta;
        this.layout = new ParamLayout.Builder()
                .add("factor", dim, dim, ParamView.Role.HIDDEN_WEIGHT)
                .add("mean", 1, dim, ParamView.Role.VECTOR)
                .build();
    }

    public double delta() {
        return delta;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public ParamLayout layout() {
        return layout;
    }

    @Override
    public double[] initialParams(long seed) {
        double[] p = new double[layout.size()];
        for (int i = 0; i < dim; i++) p[i * dim + i] = 1.0;
        return p;
    }

    /** M = AAᵀ + δI as a row-major [D x D] array. */
    public double[] precision(double[] params) {
        double[] m = new double[dim * dim];
        for (int i = 0; i < dim; i++) {
            for (int j = 0; j < dim; j++) {
                double s = 0;
                for (int k = 0; k < dim; k++) s += params[i * dim + k] * params[j * dim + k];
                m[i * dim + j] = s + (i == j ? delta : 0);
            }
        }
        return m;
    }

    public double[] mean(double[] params) {
        double[] mu = new double[dim];
        System.arraycopy(params, dim * dim, mu, 0, dim);
        return mu;
    }

    @Override
    public <T extends Tensor> BoundEnergy<T> bind(Ops<T> ops, Parameters<T> params) {
        T factor = params.leaf(layout.view("factor"));
        T mean = params.leaf(layout.view("mean"));
        return new BoundEnergy<>() {
            private T centred(T x) {
                return ops.addRow(x, ops.scale(mean, -1));
            }

            @Override
            public T energy(T x) {
                T y = centred(x);
                T p = ops.matmulNN(y, factor);
                return ops.combine(ops.rowSumSquares(p), ops.rowSumSquares(y), 0.5, 0.5 * delta);
            }

            @Override
            public T gradX(T x) {
                T y = centred(x);
                return ops.combine(ops.matmulNT(ops.matmulNN(y, factor), factor), y, 1, delta);
            }

            @Override
            public Directional<T> alongDirections(T x, T v, int directionsPerSample) {
                T y = centred(x);
                T p = ops.matmulNN(y, factor);
                T va = ops.matmulNN(v, factor);
                T first = ops.rowSum(ops.combine(ops.groupMul(p, va), ops.groupMul(y, v), 1, delta));
                T second = ops.groupSum(ops.combine(ops.rowSumSquares(va), ops.rowSumSquares(v), 1, delta), x.rows());
                return new Directional<>(first, second);
            }

            @Override
            public T directionalDerivatives(T x, T v, int directionsPerSample) {
                return alongDirections(x, v, directionsPerSample).firstDerivatives();
            }

            @Override
            public Exact<T> exact(T x, TraceAlgorithm algorithm) {
                T traceA = ops.repeatRows(ops.sum(ops.mul(factor, factor)), x.rows());
                T laplacian = ops.add(traceA, ops.full(x.rows(), 1, delta * dim));
                return new Exact<>(laplacian, ops.rowSumSquares(gradX(x)));
            }

            /** diag M = Σ_k A_dk² + δ, the same on every row. */
            @Override
            public T hessianDiagonal(T x) {
                T squares = ops.colSumSquares(ops.transpose(factor));
                return ops.add(ops.repeatRows(squares, x.rows()), ops.full(x.rows(), dim, delta));
            }
        };
    }
}
