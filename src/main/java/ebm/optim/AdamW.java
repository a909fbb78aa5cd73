package ebm.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW in torch.optim.AdamW's order: θ ← θ(1 − lr·λ); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
 * θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps).
 * It may own only some ranges of the flat buffer (Muon hands it the parameters it does not orthogonalise);
 * its moments are stored compactly over those ranges.
 */
public final class AdamW implements Optimizer {
    private final AdamWOptions options;
    private final int size;
    private final int[] rangeStarts;
    private final int[] rangeLengths;
    private final double[] expAvg;
    private final double[] expAvgSq;
    private long steps;
    private double lastVSpread = Double.NaN;

    /** AdamW over the ranges [rangeStarts[k], rangeStarts[k] + rangeLengths[k]) of a buffer of {@code size}. */
    AdamW(AdamWOptions options, int size, int[] rangeStarts, int[] rangeLengths) {
        this.options = options;
        this.size = size;
        this.rangeStarts = rangeStarts.clone();
        this.rangeLengths = rangeLengths.clone();
        int owned = 0;
        for (int length : rangeLengths) owned += length;
        this.expAvg = new double[owned];
        this.expAvgSq = new double[owned];
    }

    @Override
    public void step(double[] params, double[] grad, double lrScale) {
        StateMaps.checkGradient(params, grad, size);
        steps++;
        double lr = options.lr() * lrScale;
        double beta1 = options.beta1();
        double beta2 = options.beta2();
        double eps = options.eps();
        double decayFactor = 1 - lr * options.weightDecay();
        double stepSize = lr / (1 - Math.pow(beta1, steps));
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, steps));
        double minDenom = Double.POSITIVE_INFINITY;
        double maxDenom = 0;
        int j = 0;
        for (int r = 0; r < rangeStarts.length; r++) {
            int end = rangeStarts[r] + rangeLengths[r];
            for (int i = rangeStarts[r]; i < end; i++, j++) {
                double g = grad[i];
                double p = params[i] * decayFactor;
                double m = expAvg[j] * beta1 + (1 - beta1) * g;
                double v = expAvgSq[j] * beta2 + (1 - beta2) * g * g;
                expAvg[j] = m;
                expAvgSq[j] = v;
                double denom = Math.sqrt(v) / biasCorrection2Sqrt + eps;
                params[i] = p + (-stepSize * m) / denom; // addcdiv's order of operations
                minDenom = Math.min(minDenom, denom);
                maxDenom = Math.max(maxDenom, denom);
            }
        }
        // The spread of per-coordinate step sizes: how unevenly Adam rescales the coordinates.
        lastVSpread = j == 0 ? Double.NaN : maxDenom / minDenom;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public Map<String, double[]> state() {
        Map<String, double[]> state = new LinkedHashMap<>();
        state.put("step", new double[] {steps});
        state.put("exp_avg", expAvg.clone());
        state.put("exp_avg_sq", expAvgSq.clone());
        return state;
    }

    @Override
    public void loadState(Map<String, double[]> state) {
        long loadedSteps = StateMaps.loadCounter(state, "step");
        StateMaps.require(state, "exp_avg", expAvg.length);
        StateMaps.require(state, "exp_avg_sq", expAvgSq.length);
        StateMaps.load(state, "exp_avg", expAvg);
        StateMaps.load(state, "exp_avg_sq", expAvgSq);
        steps = loadedSteps;
    }

    /** "adam_v_spread": max over min of the denominators √v̂ + eps of the last step (NaN before the first). */
    @Override
    public Map<String, Double> diagnostics() {
        Map<String, Double> diagnostics = new LinkedHashMap<>();
        if (steps > 0 && !Double.isNaN(lastVSpread)) diagnostics.put("adam_v_spread", lastVSpread);
        return diagnostics;
    }
}
