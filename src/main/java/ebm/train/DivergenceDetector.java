package ebm.train;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Decides after every step whether a run has blown up, also when its numbers are still finite. The rules, checked in
 * this order, are chosen so that healthy training cannot trip them (an exact-SM run overfitting a small data set, whose
 * gradient norm grows 500-fold and whose batch loss falls to −400, stays far from every threshold):
 * <ol>
 *   <li>a non-finite loss or gradient norm;</li>
 *   <li>|loss| &gt; 10⁶·(1 + |m_L|), m_L the median of the losses of the run's first 50 steps (of the steps before this
 *       one while there are fewer);</li>
 *   <li>gradient norm &gt; 10⁶·m_G, m_G the median of the first 50 gradient norms likewise (when m_G &gt; 0);</li>
 *   <li>the gradient norm exactly 0 for 50 steps in a row (a dead network: nothing can train any more);</li>
 *   <li>the batch loss exactly the same for 50 steps in a row (batches are drawn afresh every step, so a loss that
 *       does not change is a model that no longer depends on its input).</li>
 * </ol>
 * The medians are the lower middle value, so a blow-up at step 2 is measured against step 1. The state (the first
 * 50 losses and gradient norms, the two run lengths and the last loss) is saved with the run, so a resumed run
 * decides exactly as an uninterrupted one.
 */
final class DivergenceDetector {
    static final int REFERENCE_STEPS = 50;
    static final double FACTOR = 1e6;
    static final int FLAT_STEPS = 50;
    static final String PREFIX = "divergence.";

    private final double[] losses = new double[REFERENCE_STEPS];
    private final double[] gradNorms = new double[REFERENCE_STEPS];
    private int seen;
    private long zeroGradRun;
    private long sameLossRun;
    private double lastLoss = Double.NaN;

    /** Which rule fired and the first step of what it describes (the step itself for the instantaneous rules). */
    record Verdict(String rule, String detail, long since) {}

    /** Checks one step's loss and raw gradient norm; null while the run is healthy. */
    Verdict check(long step, double loss, double gradNorm) {
        if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) {
            return new Verdict("non-finite", "non-finite loss (" + loss + ") or gradient norm (" + gradNorm + ")", step);
        }
        Verdict v = null;
        if (seen > 0) {
            double mL = lowerMedian(losses, seen), limit = FACTOR * (1 + Math.abs(mL));
            double mG = lowerMedian(gradNorms, seen);
            if (Math.abs(loss) > limit) {
                v = new Verdict("loss magnitude", String.format(Locale.ROOT, "|loss| %.4g is above 10⁶·(1 + |%.4g|) = %.4g, "
                        + "%.4g being %s", Math.abs(loss), mL, limit, mL, reference("loss")), step);
            } else if (mG > 0 && gradNorm > FACTOR * mG) {
                v = new Verdict("gradient norm", String.format(Locale.ROOT, "the gradient norm %.4g is above 10⁶ × %.4g, %s",
                        gradNorm, mG, reference("gradient norm")), step);
            }
        }
        if (seen < REFERENCE_STEPS) {
            losses[seen] = loss;
            gradNorms[seen] = gradNorm;
            seen++;
        }
        zeroGradRun = gradNorm == 0 ? zeroGradRun + 1 : 0;
        sameLossRun = loss == lastLoss ? sameLossRun + 1 : 1;
        lastLoss = loss;
        if (v != null) return v;
        if (zeroGradRun >= FLAT_STEPS) {
            return new Verdict("zero gradient", "the gradient has been exactly 0 for " + zeroGradRun + " steps (a dead network)",
                    step - zeroGradRun + 1);
        }
        if (sameLossRun >= FLAT_STEPS) {
            return new Verdict("constant loss", "the batch loss has been exactly " + loss + " for " + sameLossRun
                    + " steps (the model no longer depends on its input)", step - sameLossRun + 1);
        }
        return null;
    }

    private String reference(String what) {
        return seen == 1 ? "the " + what + " of the first step" : "the median " + what + " of the first " + seen + " steps";
    }

    private static double lowerMedian(double[] values, int n) {
        double[] sorted = Arrays.copyOf(values, n);
        Arrays.sort(sorted);
        return sorted[(n - 1) / 2];
    }

    /** The state as named tensors (names without {@link #PREFIX}), for the run state file. */
    Map<String, double[]> state() {
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("reference_losses", Arrays.copyOf(losses, seen));
        m.put("reference_grad_norms", Arrays.copyOf(gradNorms, seen));
        m.put("runs", new double[] {zeroGradRun, sameLossRun, lastLoss});
        return m;
    }

    /** The detector a saved run had; a fresh one when the state holds none (a run saved before detectors were). */
    static DivergenceDetector restore(Map<String, double[]> state) {
        DivergenceDetector d = new DivergenceDetector();
        if (state == null || state.isEmpty()) return d;
        double[] l = state.get("reference_losses"), g = state.get("reference_grad_norms"), r = state.get("runs");
        if (l == null || g == null || r == null || l.length != g.length || l.length > REFERENCE_STEPS || r.length != 3) {
            throw new ebm.EbmException(RunState.FILE + ": the divergence detector's state is malformed (tensors "
                    + PREFIX + "reference_losses, reference_grad_norms, runs)");
        }
        System.arraycopy(l, 0, d.losses, 0, l.length);
        System.arraycopy(g, 0, d.gradNorms, 0, g.length);
        d.seen = l.length;
        d.zeroGradRun = (long) r[0];
        d.sameLossRun = (long) r[1];
        d.lastLoss = r[2];
        return d;
    }
}
