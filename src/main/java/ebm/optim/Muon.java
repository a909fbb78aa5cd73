package ebm.optim;

import ebm.linalg.Gemm;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Muon on the hidden weight matrices (and the first layer's when muonFirstLayer): b ← μb + (1 − μ)g,
 * u = (1 − μ)g + μb with Nesterov (u = b without), O = NewtonSchulz(u),
 * θ ← θ(1 − lr·λ) − lr·√max(1, rows/cols)·O. Every other parameter goes to an inner AdamW with its own lr.
 */
public final class Muon extends AbstractOptimizer {
    /** Quintic Newton–Schulz coefficients: steep at 0 so small singular values grow fast, then oscillate near 1. */
    static final double NS_A = 3.4445;
    static final double NS_B = -4.7750;
    static final double NS_C = 2.0315;
    /** Added to the Frobenius norm so that a zero update stays zero instead of dividing by zero. */
    static final double NS_NORM_EPS = 1e-7;

    private final MuonOptions options;
    private final List<ParamView> muonViews;
    /** Momentum buffers of the Muon matrices, back to back in layout order. */
    private final double[] momentum;
    private final AdamW inner;
    private double lastOrthogonalityError = Double.NaN;

    Muon(MuonOptions options, ParamLayout layout) {
        super(layout.size());
        this.options = options;
        List<ParamView> toMuon = new ArrayList<>();
        List<ParamView> toAdam = new ArrayList<>();
        for (ParamView view : layout.views()) (options.orthogonalises(view) ? toMuon : toAdam).add(view);
        this.muonViews = List.copyOf(toMuon);
        int buffered = 0;
        for (ParamView view : muonViews) buffered += view.size();
        this.momentum = new double[buffered];
        int[] starts = new int[toAdam.size()];
        int[] lengths = new int[toAdam.size()];
        for (int k = 0; k < toAdam.size(); k++) {
            starts[k] = toAdam.get(k).offset();
            lengths[k] = toAdam.get(k).size();
        }
        this.inner = new AdamW(options.inner(), size, starts, lengths);
    }

    @Override
    void update(double[] params, double[] grad, double lrScale) {
        double lr = options.lr() * lrScale;
        double mu = options.momentum();
        double decayFactor = 1 - lr * options.weightDecay();
        double worstError = Double.NaN;
        int bufferOffset = 0;
        for (ParamView view : muonViews) {
            int n = view.size();
            double[] update = new double[n];
            for (int k = 0; k < n; k++) {
                double g = grad[view.offset() + k];
                double b = mu * momentum[bufferOffset + k] + (1 - mu) * g;
                momentum[bufferOffset + k] = b;
                update[k] = options.nesterov() ? (1 - mu) * g + mu * b : b;
            }
            bufferOffset += n;
            double[] orthogonal = new double[n];
            double error = orthogonalise(update, view.rows(), view.cols(), options.nsSteps(), orthogonal, true);
            worstError = Double.isNaN(worstError) ? error : Math.max(worstError, error);
            // Tall matrices get larger steps so that the per-row update size matches the wide case.
            double scale = Math.sqrt(Math.max(1.0, (double) view.rows() / view.cols()));
            decayAndStep(params, view.offset(), decayFactor, lr * scale, orthogonal);
        }
        lastOrthogonalityError = worstError;
        inner.step(params, grad, lrScale);
    }

    /**
     * The Newton–Schulz orthogonalisation Muon applies to a row-major [rows x cols] matrix: normalise by the
     * Frobenius norm (+1e-7), then {@code steps} times X ← aX + (bA + cA²)X with A = XXᵀ on the wide
     * orientation. Returns a new [rows x cols] array.
     */
    public static double[] newtonSchulz(double[] g, int rows, int cols, int steps) {
        double[] out = new double[rows * cols];
        orthogonalise(g, rows, cols, steps, out, false);
        return out;
    }

    /** Writes NewtonSchulz(g) into out; returns ‖XXᵀ − I‖_F/√n of the wide result when asked (else NaN). */
    private static double orthogonalise(double[] g, int rows, int cols, int steps, double[] out,
                                        boolean measureError) {
        boolean tall = rows > cols;
        // Wide orientation: X is [n x m] with n ≤ m, so the Gram matrices are the small n x n ones.
        int n = tall ? cols : rows;
        int m = tall ? rows : cols;
        double[] x = new double[n * m];
        double sumSquares = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double value = g[r * cols + c];
                sumSquares += value * value;
                x[tall ? c * m + r : r * m + c] = value;
            }
        }
        double inverseNorm = 1.0 / (Math.sqrt(sumSquares) + NS_NORM_EPS);
        for (int k = 0; k < x.length; k++) x[k] *= inverseNorm;

        double[] gram = new double[n * n];
        double[] poly = new double[n * n];
        double[] next = new double[n * m];
        for (int s = 0; s < steps; s++) {
            Gemm.gemm(false, true, n, n, m, 1.0, x, 0, m, x, 0, m, 0.0, gram, 0, n);
            Gemm.gemm(false, false, n, n, n, NS_C, gram, 0, n, gram, 0, n, 0.0, poly, 0, n);
            for (int k = 0; k < poly.length; k++) poly[k] += NS_B * gram[k];
            System.arraycopy(x, 0, next, 0, x.length);
            Gemm.gemm(false, false, n, m, n, 1.0, poly, 0, n, x, 0, m, NS_A, next, 0, m);
            double[] swap = x;
            x = next;
            next = swap;
        }

        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = x[tall ? c * m + r : r * m + c];
            }
        }
        if (!measureError) return Double.NaN;
        Gemm.gemm(false, true, n, n, m, 1.0, x, 0, m, x, 0, m, 0.0, gram, 0, n);
        double errorSquares = 0;
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                double d = gram[r * n + c] - (r == c ? 1.0 : 0.0);
                errorSquares += d * d;
            }
        }
        return Math.sqrt(errorSquares / n);
    }

    @Override
    Map<String, double[]> buffers() {
        return Map.of("muon_momentum", momentum);
    }

    /** The momentum, then the inner AdamW's whole state under "adamw.". */
    @Override
    void saveState(Map<String, double[]> state) {
        super.saveState(state);
        inner.state().forEach((key, value) -> state.put("adamw." + key, value));
    }

    @Override
    void loadOwnState(Map<String, double[]> state) {
        StateMaps.require(state, "muon_momentum", momentum.length);
        // Check the inner entries under their saved names before anything changes.
        inner.state().forEach((key, value) -> StateMaps.require(state, "adamw." + key, value.length));
        Map<String, double[]> innerState = new LinkedHashMap<>();
        state.forEach((key, value) -> {
            if (key.startsWith("adamw.")) innerState.put(key.substring("adamw.".length()), value);
        });
        inner.loadState(innerState);
        StateMaps.load(state, "muon_momentum", momentum);
    }

    /** "muon_orthogonality_error" (max over the Muon matrices) and the inner AdamW's diagnostics. */
    @Override
    public Map<String, Double> diagnostics() {
        Map<String, Double> diagnostics = new LinkedHashMap<>();
        if (steps > 0 && !Double.isNaN(lastOrthogonalityError)) {
            diagnostics.put("muon_orthogonality_error", lastOrthogonalityError);
        }
        diagnostics.putAll(inner.diagnostics());
        return diagnostics;
    }
}
