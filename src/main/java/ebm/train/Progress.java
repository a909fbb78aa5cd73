package ebm.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Progress of a run: on a terminal a bar redrawn in place (steps/s, loss, ETA); otherwise plain lines, about twenty
 * per run. Evaluation results are printed as lines in both cases.
 */
final class Progress {
    private final PrintStream out;
    private final long total;
    private final boolean terminal;
    private final long lineEvery;
    private final long start = System.nanoTime();
    private long firstStep = -1;
    private long lastDraw;
    private boolean barShown;

    Progress(PrintStream out, long total) {
        this.out = out;
        this.total = total;
        this.terminal = System.console() != null && System.console().isTerminal() && out == System.out;
        this.lineEvery = Math.max(1, total / 20);
    }

    void update(long step, double loss, Map<String, Object> eval) {
        if (firstStep < 0) firstStep = step;
        double elapsed = (System.nanoTime() - start) * 1e-9;
        double rate = (step - firstStep + 1) / Math.max(elapsed, 1e-9);
        double eta = (total - step) / rate;
        if (eval != null) {
            clearBar();
            out.println(String.format(Locale.ROOT, "step %d/%d  loss %+.5g  val_loss %s  fisher %s", step, total, loss,
                    fmt(eval.get("val_loss")), fmt(eval.get("fisher_divergence")))
                    + (eval.containsKey("fisher_divergence_noised") ? "  fisher(p_σ) " + fmt(eval.get("fisher_divergence_noised")) : ""));
        }
        if (terminal) {
            long now = System.nanoTime();
            if (now - lastDraw > 100_000_000L || step == total) {
                int width = 30, filled = (int) (width * step / Math.max(1, total));
                out.print(String.format(Locale.ROOT, "\r[%s%s] %d/%d  %.1f steps/s  loss %+.4g  ETA %s",
                        "#".repeat(filled), ".".repeat(width - filled), step, total, rate, loss, duration(eta)));
                out.flush();
                barShown = true;
                lastDraw = now;
            }
        } else if (eval == null && step % lineEvery == 0) {
            out.println(String.format(Locale.ROOT, "step %d/%d  loss %+.5g  %.1f steps/s  ETA %s", step, total, loss, rate,
                    duration(eta)));
        }
    }

    private void clearBar() {
        if (barShown) {
            out.print("\r" + " ".repeat(90) + "\r");
            barShown = false;
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
