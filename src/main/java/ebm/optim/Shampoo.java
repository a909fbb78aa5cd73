package ebm.optim;

import ebm.linalg.Gemm;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * Shampoo grafted to AdamW. For each weight matrix G: L ← L + GGᵀ, R ← R + GᵀG (both start at ε·I; a side
 * longer than maxPrecondDim keeps no statistic and is the identity), direction D = L^{−1/4} G R^{−1/4} with the
 * roots recomputed every rootEvery steps, and the block's step is D rescaled to the Frobenius norm of the
 * AdamW step of the same block. Biases and vectors take the AdamW (graft) step alone, and so does everything
 * before startStep. Weight decay is decoupled: θ ← θ(1 − lr·λ) − lr·step. A root refresh that fails
 * (non-finite statistic or root, or a failed eigendecomposition) keeps the last good roots and is counted.
 */
public final class Shampoo extends AbstractOptimizer {
    /**
     * Eigenvalues below this fraction of the largest are raised to it before the inverse root: rounding can
     * leave tiny or negative eigenvalues whose −1/4 power would blow up, and this caps the root's condition
     * number at 1e3 while staying far above fp64 eigenvalue noise (~1e-16 relative).
     */
    static final double EIGENVALUE_FLOOR = 1e-12;

    private final ShampooOptions options;
    private final List<MatrixBlock> blocks;
    private final double[] expAvg;
    private final double[] expAvgSq;
    private long rootFailures;
    private double condLeftMax = Double.NaN;
    private double condRightMax = Double.NaN;
    private double lastVSpread = Double.NaN;

    /** One weight matrix's statistics and inverse roots; null arrays for an unpreconditioned side. */
    private static final class MatrixBlock {
        final ParamView view;
        final double[] leftStat;
        final double[] rightStat;
        final double[] leftRoot;
        final double[] rightRoot;

        MatrixBlock(ParamView view, int maxPrecondDim, double eps) {
            this.view = view;
            boolean left = view.rows() <= maxPrecondDim;
            boolean right = view.cols() <= maxPrecondDim;
            leftStat = left ? scaledIdentity(view.rows(), eps) : null;
            rightStat = right ? scaledIdentity(view.cols(), eps) : null;
            // Identity until the first root is computed: the direction is then G itself (still grafted).
            leftRoot = left ? scaledIdentity(view.rows(), 1) : null;
            rightRoot = right ? scaledIdentity(view.cols(), 1) : null;
        }
    }

    Shampoo(ShampooOptions options, ParamLayout layout) {
        super(layout.size());
        this.options = options;
        List<MatrixBlock> matrices = new ArrayList<>();
        for (ParamView view : layout.views()) {
            if (view.isMatrix()) matrices.add(new MatrixBlock(view, options.maxPrecondDim(), options.eps()));
        }
        this.blocks = List.copyOf(matrices);
        this.expAvg = new double[size];
        this.expAvgSq = new double[size];
    }

    @Override
    void update(double[] params, double[] grad, double lrScale) {
        double lr = options.lr() * lrScale;
        double[] direction = graftStep(grad);

        boolean precondition = options.preconditions(steps);
        boolean refreshRoots = options.refreshesRoots(steps);
        double stepCondLeft = Double.NaN;
        double stepCondRight = Double.NaN;
        for (MatrixBlock block : blocks) {
            ParamView view = block.view;
            int rows = view.rows();
            int cols = view.cols();
            // Statistics accumulate from the first step, so they are warm when preconditioning starts.
            if (block.leftStat != null) {
                Gemm.gemm(false, true, rows, rows, cols, 1.0, grad, view.offset(), cols, grad, view.offset(), cols,
                        1.0, block.leftStat, 0, rows);
            }
            if (block.rightStat != null) {
                Gemm.gemm(true, false, cols, cols, rows, 1.0, grad, view.offset(), cols, grad, view.offset(), cols,
                        1.0, block.rightStat, 0, cols);
            }
            if (refreshRoots) {
                double[] conditions = refreshRoots(block);
                stepCondLeft = nanMax(stepCondLeft, conditions[0]);
                stepCondRight = nanMax(stepCondRight, conditions[1]);
            }
            if (precondition) applyGraftedPreconditioner(block, grad, direction);
        }
        if (refreshRoots) {
            condLeftMax = stepCondLeft;
            condRightMax = stepCondRight;
        }

        decayAndStep(params, 0, 1 - lr * options.weightDecay(), lr, direction);
    }

    /** Updates the AdamW moments of every parameter and returns the AdamW step without its learning rate. */
    private double[] graftStep(double[] grad) {
        double beta1 = options.beta1();
        double beta2 = options.beta2();
        double biasCorrection1 = 1 - Math.pow(beta1, steps);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, steps));
        double[] step = new double[size];
        double minDenom = Double.POSITIVE_INFINITY;
        double maxDenom = 0;
        for (int i = 0; i < size; i++) {
            double g = grad[i];
            double m = expAvg[i] * beta1 + (1 - beta1) * g;
            double v = expAvgSq[i] * beta2 + (1 - beta2) * g * g;
            expAvg[i] = m;
            expAvgSq[i] = v;
            double denom = Math.sqrt(v) / biasCorrection2Sqrt + options.graftEps();
            step[i] = (m / biasCorrection1) / denom;
            minDenom = Math.min(minDenom, denom);
            maxDenom = Math.max(maxDenom, denom);
        }
        lastVSpread = size == 0 ? Double.NaN : maxDenom / minDenom;
        return step;
    }

    /** Replaces the block's graft step in {@code direction} by D = L^{−1/4} G R^{−1/4} rescaled to its norm. */
    private static void applyGraftedPreconditioner(MatrixBlock block, double[] grad, double[] direction) {
        ParamView view = block.view;
        int rows = view.rows();
        int cols = view.cols();
        double[] preconditioned = new double[rows * cols];
        System.arraycopy(grad, view.offset(), preconditioned, 0, preconditioned.length);
        if (block.leftRoot != null) {
            double[] product = new double[rows * cols];
            Gemm.gemm(false, false, rows, cols, rows, 1.0, block.leftRoot, 0, rows, preconditioned, 0, cols,
                    0.0, product, 0, cols);
            preconditioned = product;
        }
        if (block.rightRoot != null) {
            double[] product = new double[rows * cols];
            Gemm.gemm(false, false, rows, cols, cols, 1.0, preconditioned, 0, cols, block.rightRoot, 0, cols,
                    0.0, product, 0, cols);
            preconditioned = product;
        }
        double graftNorm = frobenius(direction, view.offset(), preconditioned.length);
        double shampooNorm = frobenius(preconditioned, 0, preconditioned.length);
        // A zero direction (zero gradient) has no orientation to rescale; the block keeps its graft step then.
        if (!(shampooNorm > 0)) return;
        double scale = graftNorm / shampooNorm;
        for (int k = 0; k < preconditioned.length; k++) {
            direction[view.offset() + k] = scale * preconditioned[k];
        }
    }

    /**
     * Recomputes the block's roots from its statistics ({@link #inverseRoots}); a failure keeps both previous roots
     * and is counted. Returns the condition numbers {left, right} (NaN for an unpreconditioned side or a failure).
     */
    private double[] refreshRoots(MatrixBlock block) {
        Roots roots = inverseRoots(block.leftStat, block.view.rows(), block.rightStat, block.view.cols());
        if (roots == null) {
            rootFailures++;
            return new double[] {Double.NaN, Double.NaN};
        }
        if (roots.left() != null) System.arraycopy(roots.left(), 0, block.leftRoot, 0, roots.left().length);
        if (roots.right() != null) System.arraycopy(roots.right(), 0, block.rightRoot, 0, roots.right().length);
        return new double[] {roots.conditionLeft(), roots.conditionRight()};
    }

    /**
     * One matrix's fresh inverse fourth roots (row-major, null for an unpreconditioned side) and the condition numbers
     * of its statistics (λmax/λmin before flooring, +∞ when λmin ≤ 0; NaN for an unpreconditioned side).
     */
    public record Roots(double[] left, double[] right, double conditionLeft, double conditionRight) {}

    /**
     * stat^{−1/4} of both sides ([rows x rows] and [cols x cols], row-major; a null statistic is an unpreconditioned
     * side) from symmetric eigendecompositions, or null when either side fails (the decomposition fails or anything is
     * non-finite): the caller then keeps its last good roots and counts one failure. The GPU backend calls this on the
     * statistics it accumulated, so both backends fail, floor and measure conditions the same way.
     */
    public static Roots inverseRoots(double[] leftStat, int rows, double[] rightStat, int cols) {
        double[] left = leftStat == null ? null : new double[rows * rows];
        double[] right = rightStat == null ? null : new double[cols * cols];
        double conditionLeft = Double.NaN, conditionRight = Double.NaN;
        if (left != null) {
            conditionLeft = inverseFourthRoot(leftStat, rows, left);
            if (Double.isNaN(conditionLeft) || !allFinite(left)) return null;
        }
        if (right != null) {
            conditionRight = inverseFourthRoot(rightStat, cols, right);
            if (Double.isNaN(conditionRight) || !allFinite(right)) return null;
        }
        return new Roots(left, right, conditionLeft, conditionRight);
    }

    private static boolean allFinite(double[] values) {
        for (double value : values) {
            if (!Double.isFinite(value)) return false;
        }
        return true;
    }

    /** Writes stat^{−1/4} into out and returns the condition number, or NaN when the decomposition fails. */
    static double inverseFourthRoot(double[] stat, int n, double[] out) {
        for (double value : stat) {
            if (!Double.isFinite(value)) return Double.NaN;
        }
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(new DMatrixRMaj(n, n, true, stat.clone()))) return Double.NaN;
        double[] eigenvalues = new double[n];
        double largest = Double.NEGATIVE_INFINITY;
        double smallest = Double.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            eigenvalues[i] = eig.getEigenvalue(i).real;
            largest = Math.max(largest, eigenvalues[i]);
            smallest = Math.min(smallest, eigenvalues[i]);
        }
        if (!(largest > 0) || !Double.isFinite(largest) || Double.isNaN(smallest)) return Double.NaN;
        double floor = largest * EIGENVALUE_FLOOR;
        // out = V diag(λ^{−1/4}) Vᵀ, built as (V scaled by column) times Vᵀ.
        double[] vectors = new double[n * n];
        double[] scaled = new double[n * n];
        for (int i = 0; i < n; i++) {
            DMatrixRMaj v = eig.getEigenVector(i);
            if (v == null) return Double.NaN;
            double weight = Math.pow(Math.max(eigenvalues[i], floor), -0.25);
            for (int r = 0; r < n; r++) {
                vectors[r * n + i] = v.get(r, 0);
                scaled[r * n + i] = v.get(r, 0) * weight;
            }
        }
        Gemm.gemm(false, true, n, n, n, 1.0, scaled, 0, n, vectors, 0, n, 0.0, out, 0, n);
        return smallest > 0 ? largest / smallest : Double.POSITIVE_INFINITY;
    }

    private static double frobenius(double[] values, int offset, int length) {
        double sum = 0;
        for (int k = offset; k < offset + length; k++) sum += values[k] * values[k];
        return Math.sqrt(sum);
    }

    /** The larger condition number of two, where NaN (no statistic, or a failed refresh) is no candidate. */
    public static double nanMax(double current, double candidate) {
        if (Double.isNaN(candidate)) return current;
        return Double.isNaN(current) ? candidate : Math.max(current, candidate);
    }

    /** diagonal·I, n x n row-major: the statistics' ε·I start and the roots' I. */
    public static double[] scaledIdentity(int n, double diagonal) {
        double[] identity = new double[n * n];
        for (int i = 0; i < n; i++) identity[i * n + i] = diagonal;
        return identity;
    }

    /** The failure count and the last condition numbers, then the buffers. */
    @Override
    void saveState(Map<String, double[]> state) {
        state.put("root_failures", new double[] {rootFailures});
        state.put("cond_left_max", new double[] {condLeftMax});
        state.put("cond_right_max", new double[] {condRightMax});
        super.saveState(state);
    }

    @Override
    void loadOwnState(Map<String, double[]> state) {
        long loadedFailures = StateMaps.loadCounter(state, "root_failures");
        double loadedCondLeft = StateMaps.require(state, "cond_left_max", 1)[0];
        double loadedCondRight = StateMaps.require(state, "cond_right_max", 1)[0];
        super.loadOwnState(state);
        rootFailures = loadedFailures;
        condLeftMax = loadedCondLeft;
        condRightMax = loadedCondRight;
    }

    /** The graft moments, then each matrix's statistics and roots (a side without a preconditioner has none). */
    @Override
    Map<String, double[]> buffers() {
        Map<String, double[]> buffers = new LinkedHashMap<>();
        buffers.put("exp_avg", expAvg);
        buffers.put("exp_avg_sq", expAvgSq);
        for (MatrixBlock block : blocks) {
            String name = block.view.name();
            if (block.leftStat != null) {
                buffers.put(name + ".left_stat", block.leftStat);
                buffers.put(name + ".left_root", block.leftRoot);
            }
            if (block.rightStat != null) {
                buffers.put(name + ".right_stat", block.rightStat);
                buffers.put(name + ".right_root", block.rightRoot);
            }
        }
        return buffers;
    }

    /**
     * "shampoo_cond_left_max" / "shampoo_cond_right_max": the largest condition number of L and R over the
     * matrices at the last root computation; "shampoo_root_failures": failed root refreshes so far (one per matrix and refresh);
     * "adam_v_spread" of the graft.
     */
    @Override
    public Map<String, Double> diagnostics() {
        return diagnostics(condLeftMax, condRightMax, rootFailures, steps > 0 ? lastVSpread : Double.NaN);
    }

    /**
     * The diagnostics above from their values, a NaN condition or spread left out; the GPU backend reports through
     * this too, so both name and omit them alike.
     */
    public static Map<String, Double> diagnostics(double condLeftMax, double condRightMax, long rootFailures, double vSpread) {
        Map<String, Double> diagnostics = new LinkedHashMap<>();
        if (!Double.isNaN(condLeftMax)) diagnostics.put("shampoo_cond_left_max", condLeftMax);
        if (!Double.isNaN(condRightMax)) diagnostics.put("shampoo_cond_right_max", condRightMax);
        diagnostics.put("shampoo_root_failures", (double) rootFailures);
        if (!Double.isNaN(vSpread)) diagnostics.put("adam_v_spread", vSpread);
        return diagnostics;
    }
}
