package ebm.model;

import ebm.EbmException;
import ebm.tape.Node;
import ebm.tape.Tape;

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
    public BoundEnergy bind(Tape tape, double[] params, boolean trainable) {
        double[] a = new double[dim * dim];
        double[] mu = new double[dim];
        System.arraycopy(params, 0, a, 0, a.length);
        System.arraycopy(params, a.length, mu, 0, dim);
        Node factor = trainable ? tape.variable(a, dim, dim) : tape.constant(a, dim, dim);
        Node mean = trainable ? tape.variable(mu, 1, dim) : tape.constant(mu, 1, dim);
        return new BoundEnergy() {
            private Node centred(Node x) {
                return tape.addRow(x, tape.scale(mean, -1));
            }

            @Override
            public Node energy(Node x) {
                Node y = centred(x);
                Node p = tape.matmulNN(y, factor);
                return tape.combine(tape.rowSumSquares(p), tape.rowSumSquares(y), 0.5, 0.5 * delta);
            }

            @Override
            public Node gradX(Node x) {
                Node y = centred(x);
                return tape.combine(tape.matmulNT(tape.matmulNN(y, factor), factor), y, 1, delta);
            }

            @Override
            public Directional alongDirections(Node x, Node v, int directionsPerSample) {
                Node y = centred(x);
                Node p = tape.matmulNN(y, factor);
                Node va = tape.matmulNN(v, factor);
                Node first = tape.rowSum(tape.combine(tape.groupMul(p, va), tape.groupMul(y, v), 1, delta));
                Node second = tape.groupSum(tape.combine(tape.rowSumSquares(va), tape.rowSumSquares(v), 1, delta), x.rows);
                return new Directional(first, second);
            }

            @Override
            public Exact exact(Node x, TraceAlgorithm algorithm) {
                Node traceA = tape.repeatRows(tape.sum(tape.mul(factor, factor)), x.rows);
                double[] shift = new double[x.rows];
                java.util.Arrays.fill(shift, delta * dim);
                Node laplacian = tape.add(traceA, tape.constant(shift, x.rows, 1));
                return new Exact(laplacian, tape.rowSumSquares(gradX(x)));
            }

            @Override
            public double[] hessianDiagonal(Node x) {
                double[] m = precision(params);
                double[] diag = new double[x.rows * dim];
                for (int b = 0; b < x.rows; b++) for (int d = 0; d < dim; d++) diag[b * dim + d] = m[d * dim + d];
                return diag;
            }

            @Override
            public void collectGrad(double[] grad) {
                System.arraycopy(factor.grad(), 0, grad, 0, dim * dim);
                System.arraycopy(mean.grad(), 0, grad, dim * dim, dim);
            }
        };
    }
}
