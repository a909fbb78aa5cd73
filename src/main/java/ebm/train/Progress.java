package ebm.train;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Progress of a run: on a terminal a bar redrawn in place, otherwise plain lines, about twenty per run; both show the
 * step, the batch loss, the latest held-out loss, steps/s and the ETA. Evaluation results are printed as lines in
 * both cases. Steps/s and the ETA come from a moving window of recent steps, not the average since the start, which
 * a slow first step (JIT warm-up, the first evaluation) or a resume would skew for the rest of the run.
 */
final class Progress {
    /** The window: at most this many recent steps... */
    static final int WINDOW_STEPS = 50;
    /** ...and at most this long, but always at least the latest step. */
    static final long WINDOW_NANOS = 10_000_000_000L;

    private final PrintStream out;
    private final long total;
    private final boolean terminal;
    private final long lineEvery;
    private final LongSupplier clock;
    /** The window's (step, time) marks, oldest first; the first is the start, as the step before the first update. */
    private final ArrayDeque<long[]> marks = new ArrayDeque<>();
    private final long start;
    private Double latestValLoss;
    private long lastDraw;
    private int barLength; // of the bar on screen, 0 when none is

    Progress(PrintStream out, long total) {
        this(out, total, System::nanoTime, System.console() != null && System.console().isTerminal() && out == System.out);
    }

    /** With a clock in nanoseconds (a fake one in tests) and whether to draw a bar. */
    Progress(PrintStream out, long total, LongSupplier clock, boolean terminal) {
        this.out = out;
        this.total = total;
        this.terminal = terminal;
        this.lineEvery = Math.max(1, total / 20);
        this.clock = clock;
        this.start = clock.getAsLong();
    }

    void update(long step, double loss, Map<String, Object> eval) {
        long now = clock.getAsLong();
        mark(step, now);
        if (eval != null) {
            if (eval.get("val_loss") instanceof Double v) latestValLoss = v;
            clearBar();
            out.println(String.format(Locale.ROOT, "step %d/%d  loss %+.5g  val_loss %s  fisher %s", step, total, loss,
                    fmt(eval.get("val_loss")), fmt(eval.get("fisher_divergence")))
                    + (eval.containsKey("fisher_divergence_noised") ? "  fisher(p_σ) " + fmt(eval.get("fisher_divergence_noised")) : ""));
        }
        if (terminal) {
            if (now - lastDraw > 100_000_000L || step == total) {
                int width = 30, filled = (int) (width * step / Math.max(1, total));
                String bar = "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + line(step, loss);
                out.print("\r" + bar + " ".repeat(Math.max(0, barLength - bar.length()))); // over a longer last one
                out.flush();
                barLength = bar.length();
                lastDraw = now;
            }
        } else if (eval == null && step % lineEvery == 0) {
            out.println(line(step, loss));
        }
    }

    /** The progress line: step, batch loss, latest held-out loss, windowed steps/s and the ETA at that rate. */
    String line(long step, double loss) {
        double rate = stepsPerSecond();
        return String.format(Locale.ROOT, "step %d/%d  loss %+.5g  val_loss %s  %.1f steps/s  ETA %s", step, total, loss,
                fmt(latestValLoss), rate, duration((total - step) / rate));
    }

    /** Adds the mark of a finished step and drops marks that left the window. */
    private void mark(long step, long now) {
        if (marks.isEmpty()) marks.add(new long[] {step - 1, start});
        marks.add(new long[] {step, now});
        while (marks.size() > WINDOW_STEPS + 1 || (marks.size() > 2 && now - marks.peekFirst()[1] > WINDOW_NANOS)) {
            marks.removeFirst();
        }
    }

    /** Steps per second over the window (NaN before the first step). */
    double stepsPerSecond() {
        if (marks.size() < 2) return Double.NaN;
        long[] first = marks.peekFirst(), last = marks.peekLast();
        return (last[0] - first[0]) / Math.max((last[1] - first[1]) * 1e-9, 1e-9);
    }

    private void clearBar() {
        if (barLength > 0) {
            out.print("\r" + " ".repeat(barLength) + "\r");
            barLength = 0;
        }
    }

    void finish() {
        clearBar();
        out.flush();
    }

    private static String fmt(Object v) {
        return v instanceof Double d ? String.format(Locale.ROOT, "%.5g", d) : "n/a";
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) return "?";
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
