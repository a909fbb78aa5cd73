package ebm.optim;

import ebm.linalg.CpuThreads;
import java.util.LinkedHashMap;
import java.util.Map;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * AdamW in torch.optim.AdamW's order: θ ← θ(1 − lr·λ); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
 * θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps).
 * It may own only some ranges of the flat buffer (Muon hands it the parameters it does not orthogonalise);
 * its moments are stored compactly over those ranges.
 */
public final class AdamW extends AbstractOptimizer {
    private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** Below this many owned coordinates one thread does the step (a hand-off costs more than it saves). */
    private static final int PARALLEL_MIN = 1 << 16;
    private final AdamWOptions options;
    private final int[] rangeStarts;
    private final int[] rangeLengths;
    private final double[] expAvg;
    private final double[] expAvgSq;
    private double lastVSpread = Double.NaN;

    /** AdamW over the ranges [rangeStarts[k], rangeStarts[k] + rangeLengths[k]) of a buffer of {@code size}. */
    AdamW(AdamWOptions options, int size, int[] rangeStarts, int[] rangeLengths) {
        super(size);
        this.options = options;
        this.rangeStarts = rangeStarts.clone();
        this.rangeLengths = rangeLengths.clone();
        int owned = 0;
        for (int length : rangeLengths) owned += length;
        this.expAvg = new double[owned];
        this.expAvgSq = new double[owned];
    }

    @Override
    void update(double[] params, double[] grad, double lrScale) {
        double lr = options.lr() * lrScale;
        Step s = new Step(1 - lr * options.weightDecay(), options.beta1(), options.beta2(), options.eps(),
                lr / (1 - Math.pow(options.beta1(), steps)), Math.sqrt(1 - Math.pow(options.beta2(), steps)));
        int owned = expAvg.length;
        // Every coordinate is independent, so chunks on several threads give the same bits as one loop; min and max
        // of the denominators are exact in any order.
        int tasks = owned < PARALLEL_MIN ? 1 : Math.min(CpuThreads.threads(), owned / (PARALLEL_MIN / 2));
        double[] mins = new double[tasks], maxs = new double[tasks];
        CpuThreads.parallelFor(tasks, task -> {
            long from = (long) owned * task / tasks, to = (long) owned * (task + 1) / tasks;
            double[] range = {Double.POSITIVE_INFINITY, 0};
            int j = 0;
            for (int r = 0; r < rangeStarts.length && j < to; r++) {
                int lo = (int) Math.max(from, j), hi = (int) Math.min(to, j + rangeLengths[r]);
                if (lo < hi) update(s, params, grad, rangeStarts[r] + (lo - j), lo, hi - lo, range);
                j += rangeLengths[r];
            }
            mins[task] = range[0];
            maxs[task] = range[1];
        });
        double minDenom = Double.POSITIVE_INFINITY, maxDenom = 0;
        for (int task = 0; task < tasks; task++) {
            minDenom = Math.min(minDenom, mins[task]);
            maxDenom = Math.max(maxDenom, maxs[task]);
        }
        // The spread of per-coordinate step sizes: how unevenly Adam rescales the coordinates.
        lastVSpread = owned == 0 ? Double.NaN : maxDenom / minDenom;
    }

    /** One step's constants: θ's decay factor, β₁, β₂, eps, lr/(1 − β₁ᵗ) and √(1 − β₂ᵗ). */
    private record Step(double decayFactor, double beta1, double beta2, double eps, double stepSize,
                        double biasCorrection2Sqrt) {}

    /**
     * Updates params[i .. i+n) with moments [j .. j+n) and folds the denominators into range = {min, max}. The vector
     * lanes do the scalar tail's operations in the same order with no fused multiply-add, so both give the same bits.
     */
    private void update(Step s, double[] params, double[] grad, int i, int j, int n, double[] range) {
        double c1 = 1 - s.beta1(), c2 = 1 - s.beta2(), negStep = -s.stepSize();
        DoubleVector minV = DoubleVector.broadcast(SPECIES, Double.POSITIVE_INFINITY), maxV = DoubleVector.zero(SPECIES);
        int k = 0;
        for (int bound = SPECIES.loopBound(n); k < bound; k += LANES) {
            DoubleVector g = DoubleVector.fromArray(SPECIES, grad, i + k);
            DoubleVector p = DoubleVector.fromArray(SPECIES, params, i + k).mul(s.decayFactor());
            DoubleVector m = DoubleVector.fromArray(SPECIES, expAvg, j + k).mul(s.beta1()).add(g.mul(c1));
            DoubleVector v = DoubleVector.fromArray(SPECIES, expAvgSq, j + k).mul(s.beta2()).add(g.mul(c2).mul(g));
            m.intoArray(expAvg, j + k);
            v.intoArray(expAvgSq, j + k);
            DoubleVector denom = v.lanewise(VectorOperators.SQRT).div(s.biasCorrection2Sqrt()).add(s.eps());
            p.add(m.mul(negStep).div(denom)).intoArray(params, i + k); // addcdiv's order of operations
            minV = minV.min(denom);
            maxV = maxV.max(denom);
        }
        double minDenom = Math.min(range[0], minV.reduceLanes(VectorOperators.MIN));
        double maxDenom = Math.max(range[1], maxV.reduceLanes(VectorOperators.MAX));
        for (; k < n; k++) {
            double g = grad[i + k];
            double p = params[i + k] * s.decayFactor();
            double m = expAvg[j + k] * s.beta1() + c1 * g;
            double v = expAvgSq[j + k] * s.beta2() + c2 * g * g;
            expAvg[j + k] = m;
            expAvgSq[j + k] = v;
            double denom = Math.sqrt(v) / s.biasCorrection2Sqrt() + s.eps();
            params[i + k] = p + (negStep * m) / denom;
            minDenom = Math.min(minDenom, denom);
            maxDenom = Math.max(maxDenom, denom);
        }
        range[0] = minDenom;
        range[1] = maxDenom;
    }

    @Override
    Map<String, double[]> buffers() {
        Map<String, double[]> buffers = new LinkedHashMap<>();
        buffers.put("exp_avg", expAvg);
        buffers.put("exp_avg_sq", expAvgSq);
        return buffers;
    }

    /** "adam_v_spread": max over min of the denominators √v̂ + eps of the last step (NaN before the first). */
    @Override
    public Map<String, Double> diagnostics() {
        Map<String, Double> diagnostics = new LinkedHashMap<>();
        if (steps > 0 && !Double.isNaN(lastVSpread)) diagnostics.put("adam_v_spread", lastVSpread);
        return diagnostics;
    }
}
