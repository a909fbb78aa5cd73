package ebm.plot;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Tick positions and labels for one axis of a plot, computed from its range alone (so they can be checked without
 * drawing anything).
 * <ul>
 *   <li>Linear: labelled ticks at multiples of a 1-2-5 step (…, 0.5, 1, 2, 5, 10, …) chosen so about {@code target}
 *       of them fall in the range.</li>
 *   <li>Logarithmic: the axis runs from the mark k·10^e (k = 1…9) at or below the lowest value to the one at or above
 *       the highest; every mark is a tick, and the labelled ones are the densest of: every mark, the 1-2-5 marks, the
 *       decades, that gives at most {@value #MAX_LOG_LABELS} labels (decades in any case). So a range of many decades
 *       labels every decade, two decades label 1, 2 and 5 of each, and a range shorter than a decade still labels a
 *       few values inside it; one narrower than a factor 3 (1.6 to 2.4) gets about five linear 1-2-5 ticks.</li>
 * </ul>
 */
public final class Ticks {
    /** The most labels a log axis gets from marks other than decades. */
    static final int MAX_LOG_LABELS = 10;
    /** A log axis over less than this factor takes linear ticks ({@link #narrowLog}). */
    static final double NARROW_LOG_RATIO = 3;
    /** Beyond this many labelled decades, every n-th decade is labelled so labels keep their room. */
    static final int MAX_LOG_DECADE_LABELS = 12;

    private Ticks() {}

    /** One tick: its value in data units and its label, null for a minor (unlabelled) tick. */
    public record Tick(double value, String label) {
        public boolean major() {
            return label != null;
        }
    }

    /** An axis: the range it spans (the plot is scaled to exactly this), whether it is logarithmic, and its ticks. */
    public record Axis(double min, double max, boolean log, List<Tick> ticks) {
        public Axis {
            ticks = List.copyOf(ticks);
        }

        /** The labels in axis order. */
        public List<String> labels() {
            return ticks.stream().filter(Tick::major).map(Tick::label).toList();
        }

        /** The values of the labelled ticks, in axis order. */
        public List<Double> majorValues() {
            return ticks.stream().filter(Tick::major).map(Tick::value).toList();
        }

        /** The values of the minor ticks, in axis order. */
        public List<Double> minorValues() {
            return ticks.stream().filter(t -> !t.major()).map(Tick::value).toList();
        }
    }

    /**
     * A linear axis over [lo, hi] with about {@code target} labelled ticks at multiples of a 1-2-5 step. A range of
     * zero width (one value) is widened around it so the axis still has ticks.
     */
    public static Axis linear(double lo, double hi, int target) {
        if (!(Double.isFinite(lo) && Double.isFinite(hi))) throw new IllegalArgumentException("range not finite: " + lo + ".." + hi);
        if (hi < lo) {
            double t = lo;
            lo = hi;
            hi = t;
        }
        if (hi == lo) {
            double half = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            lo -= half;
            hi += half;
        }
        BigDecimal step = niceStep((hi - lo) / Math.max(1, target));
        List<Tick> ticks = new ArrayList<>();
        BigDecimal first = BigDecimal.valueOf(Math.ceil(lo / step.doubleValue() - 1e-9)).multiply(step);
        double tolerance = 1e-9 * step.doubleValue();
        for (BigDecimal v = first; v.doubleValue() <= hi + tolerance; v = v.add(step)) {
            if (v.doubleValue() < lo - tolerance) continue;
            ticks.add(new Tick(v.doubleValue(), plain(v)));
        }
        return new Axis(lo, hi, false, ticks);
    }

    /** The 1-2-5 number nearest to raw on a log scale (1 below 1.5, 2 below 3.5, 5 below 7.5, else 10), times 10^e. */
    static BigDecimal niceStep(double raw) {
        int e = (int) Math.floor(Math.log10(raw));
        double norm = raw / Math.pow(10, e);
        int digit = norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10;
        return BigDecimal.valueOf(digit).scaleByPowerOfTen(e);
    }

    /**
     * A logarithmic axis covering [lo, hi] (both &gt; 0): from the mark k·10^e at or below lo to the one at or above hi,
     * with a tick at every mark and labels as the class comment says; less than a factor {@value #NARROW_LOG_RATIO}
     * (a single value, say) gets linear 1-2-5 ticks instead.
     */
    public static Axis log(double lo, double hi) {
        if (!(lo > 0 && hi > 0 && Double.isFinite(lo) && Double.isFinite(hi))) {
            throw new IllegalArgumentException("a log axis needs a positive finite range, got " + lo + ".." + hi);
        }
        if (hi < lo) {
            double t = lo;
            lo = hi;
            hi = t;
        }
        if (hi / lo < NARROW_LOG_RATIO) return narrowLog(lo, hi);
        BigDecimal min = markAtOrBelow(lo), max = markAtOrAbove(hi);
        List<BigDecimal> marks = new ArrayList<>();
        for (BigDecimal m = min; m.compareTo(max) <= 0; m = markAbove(m)) marks.add(m);

        // The densest of every mark, the 1-2-5 marks and the decades that stays within MAX_LOG_LABELS labels.
        List<BigDecimal> labelled = List.of();
        for (int[] digits : new int[][] {{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 5}, {1}}) {
            labelled = marks.stream().filter(m -> contains(digits, leadingDigit(m))).toList();
            if (labelled.size() <= MAX_LOG_LABELS) break;
        }
        if (labelled.size() > MAX_LOG_DECADE_LABELS) {
            // Only reached with decades: keep every n-th one, counted from 10^0 so the kept ones are round powers.
            int every = (labelled.size() + MAX_LOG_DECADE_LABELS - 1) / MAX_LOG_DECADE_LABELS;
            labelled = labelled.stream().filter(m -> Math.floorMod(exponent(m), every) == 0).toList();
        }
        List<Tick> ticks = new ArrayList<>();
        for (BigDecimal m : marks) ticks.add(new Tick(m.doubleValue(), labelled.contains(m) ? logLabel(m) : null));
        return new Axis(min.doubleValue(), max.doubleValue(), true, ticks);
    }

    /**
     * A log axis over less than a factor {@value #NARROW_LOG_RATIO}: the marks k·10^e would leave one or two labels
     * (1.6 to 2.4 lies between the marks 1, 2 and 3), so it takes linear 1-2-5 ticks instead, about five, and spans
     * from the one at or below lo to the one at or above hi.
     */
    private static Axis narrowLog(double lo, double hi) {
        if (hi == lo) { // one value: 10% either side of it
            lo *= 0.9;
            hi *= 1.1;
        }
        double span = hi - lo;
        BigDecimal step = niceStep(span / 5);
        double s = step.doubleValue();
        BigDecimal min = step.multiply(BigDecimal.valueOf((long) Math.floor(lo / s + 1e-9)));
        BigDecimal max = step.multiply(BigDecimal.valueOf((long) Math.ceil(hi / s - 1e-9)));
        if (min.signum() <= 0) min = step.divide(BigDecimal.valueOf(2)); // stay positive on a log axis
        if (max.compareTo(min) <= 0) max = min.add(step);
        List<Tick> ticks = new ArrayList<>();
        for (BigDecimal v = step.multiply(BigDecimal.valueOf((long) Math.ceil(min.doubleValue() / s - 1e-9))); v.compareTo(max) <= 0;
                v = v.add(step)) {
            if (v.compareTo(min) >= 0) ticks.add(new Tick(v.doubleValue(), plain(v)));
        }
        return new Axis(min.doubleValue(), max.doubleValue(), true, ticks);
    }

    private static boolean contains(int[] digits, int d) {
        for (int x : digits) if (x == d) return true;
        return false;
    }

    /** k·10^e for the mark m (k = 1..9). */
    private static int leadingDigit(BigDecimal m) {
        return m.unscaledValue().intValueExact();
    }

    private static int exponent(BigDecimal m) {
        return -m.scale();
    }

    private static BigDecimal mark(int digit, int exponent) {
        return BigDecimal.valueOf(digit).scaleByPowerOfTen(exponent);
    }

    /** The mark after m: k+1 in the same decade, or 1·10^(e+1) after 9·10^e. */
    static BigDecimal markAbove(BigDecimal m) {
        int k = leadingDigit(m), e = exponent(m);
        return k == 9 ? mark(1, e + 1) : mark(k + 1, e);
    }

    static BigDecimal markBelow(BigDecimal m) {
        int k = leadingDigit(m), e = exponent(m);
        return k == 1 ? mark(9, e - 1) : mark(k - 1, e);
    }

    /** The largest k·10^e ≤ v, allowing for a little rounding in v (0.30000000000000004 is the mark 0.3). */
    static BigDecimal markAtOrBelow(double v) {
        int e = (int) Math.floor(Math.log10(v));
        double norm = v / Math.pow(10, e);
        if (norm >= 10 - 1e-9) {
            e++;
            norm /= 10;
        }
        int k = (int) Math.floor(norm + 1e-9);
        if (k < 1) {
            e--;
            k = 9;
        }
        return mark(Math.min(k, 9), e);
    }

    /** The smallest k·10^e ≥ v, allowing for a little rounding in v. */
    static BigDecimal markAtOrAbove(double v) {
        int e = (int) Math.floor(Math.log10(v));
        double norm = v / Math.pow(10, e);
        int k = (int) Math.ceil(norm - 1e-9);
        if (k < 1) k = 1;
        return k >= 10 ? mark(1, e + 1) : mark(k, e);
    }

    /** A mark's label: plain decimals from 0.001 to below 10⁴ (0.002, 50, 3000), else 2e-5, 1e6. */
    static String logLabel(BigDecimal m) {
        int e = exponent(m);
        if (e >= -3 && e <= 3) return plain(m);
        return leadingDigit(m) + "e" + e;
    }

    /** A multiple of a step as plain decimals, without trailing zeros or a minus sign on zero. */
    static String plain(BigDecimal v) {
        if (v.signum() == 0) return "0";
        return v.stripTrailingZeros().toPlainString();
    }
}
