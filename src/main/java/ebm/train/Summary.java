package ebm.train;

import ebm.EbmException;
import ebm.config.RunConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The end-of-run table, on the terminal and as DIR/summary.md. */
final class Summary {
    private Summary() {}

    static void write(RunConfig config, TrainingData data, Trainer.Outcome o, PrintStream console) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"data", data.name() + " (D=" + data.dim() + ", " + data.train().rows() + " train / "
                + data.validation().rows() + " validation points" + (data.standardized() ? ", standardised" : "") + ")"});
        rows.add(new String[] {"model", config.model().kind().equals("mlp")
                ? "mlp " + config.model().hidden() + " " + config.model().activation() : "quadratic"});
        rows.add(new String[] {"objective", config.objective().name()});
        rows.add(new String[] {"optimizer", config.optimizer().name() + " lr=" + config.optimizer().lr()});
        rows.add(new String[] {"steps", Long.toString(o.step()) + (o.earlyStopped() ? " (stopped early: train.early_stop "
                + config.train().earlyStop() + " evals without a lower held-out SM loss; of train.steps " + config.train().steps() + ")"
                : "")});
        if (config.train().ema() > 0) {
            rows.add(new String[] {"evaluated and saved", "EMA of the weights, decay " + config.train().ema() + " (train.ema)"});
        }
        if (config.train().accumulate() > 1) {
            rows.add(new String[] {"batch", config.train().batchSize() + " rows in " + config.train().accumulate()
                    + " micro-batches of " + config.train().batchSize() / config.train().accumulate() + " (train.accumulate)"});
        }
        rows.add(new String[] {"wall time", Progress.duration(o.seconds()) + String.format(Locale.ROOT, " (%.1f ms/step)",
                1000 * o.seconds() / Math.max(1, o.step()))});
        rows.add(new String[] {"final batch loss", num(o.loss())});
        rows.add(new String[] {"held-out exact SM loss", num(o.valLoss())});
        if (o.bestStep() != null) {
            rows.add(new String[] {"best held-out exact SM loss", num(o.bestValLoss()) + " at step " + o.bestStep()
                    + (config.model().kind().equals("mlp") ? " (" + Trainer.BEST + ")" : "")});
        }
        rows.add(new String[] {"Fisher divergence ½E‖s_θ − s*‖²", num(o.fisher())});
        if (o.fisherNoised() != null) rows.add(new String[] {"Fisher divergence to p_σ", num(o.fisherNoised())});
        rows.add(new String[] {"moment-matched Gaussian's Fisher divergence", num(o.gaussianFisher())});
        if (o.fisher() != null && o.gaussianFisher() != null) {
            rows.add(new String[] {"ratio model / Gaussian", String.format(Locale.ROOT, "%.3g", o.fisher() / o.gaussianFisher())});
        }
        if (o.gaussianValLoss() != null) {
            rows.add(new String[] {"moment-matched Gaussian's held-out exact SM loss", num(o.gaussianValLoss())});
            if (o.fisher() == null && o.valLoss() != null) rows.add(new String[] {"model vs Gaussian", versusGaussian(o)});
        }
        String verdict = worseThanGaussian(o);
        if (verdict != null) rows.add(new String[] {"WARNING", verdict});
        StringBuilder md = new StringBuilder("# Run summary\n\n| quantity | value |\n|---|---|\n");
        int w = 0;
        for (String[] r : rows) w = Math.max(w, r[0].length());
        console.println();
        for (String[] r : rows) {
            md.append("| ").append(r[0]).append(" | ").append(r[1]).append(" |\n");
            console.println(String.format(Locale.ROOT, "  %-" + w + "s  %s", r[0], r[1]));
        }
        console.println("  run folder: " + o.dir());
        try {
            Files.writeString(o.dir().resolve("summary.md"), md.toString());
        } catch (IOException e) {
            throw new EbmException("cannot write " + o.dir().resolve("summary.md") + ": " + e.getMessage());
        }
    }

    /**
     * A plain sentence when the model ends worse than the moment-matched Gaussian: by the Fisher divergence where the
     * density is known, else by the held-out exact SM loss (lower is better for both). Null when it does not.
     */
    static String worseThanGaussian(Trainer.Outcome o) {
        if (o.fisher() != null && o.gaussianFisher() != null) {
            return o.fisher() > o.gaussianFisher() ? String.format(Locale.ROOT, "the model ends worse than the moment-matched "
                    + "Gaussian: Fisher divergence %.4g against the Gaussian's %.4g", o.fisher(), o.gaussianFisher()) : null;
        }
        if (o.fisher() == null && o.valLoss() != null && o.gaussianValLoss() != null) {
            return o.valLoss() > o.gaussianValLoss() ? String.format(Locale.ROOT, "the model ends worse than the moment-matched "
                    + "Gaussian: held-out exact SM loss %.4g against the Gaussian's %.4g", o.valLoss(), o.gaussianValLoss()) : null;
        }
        return null;
    }

    /**
     * Where the density is unknown, whether the model beats the moment-matched Gaussian by the held-out SM loss (equal
     * to the Fisher divergence to the data up to the same constant for both, so the lower one is closer to the data).
     */
    static String versusGaussian(Trainer.Outcome o) {
        boolean beats = o.valLoss() < o.gaussianValLoss();
        return String.format(Locale.ROOT, "the model %s the moment-matched Gaussian: held-out exact SM loss %.6g %s the "
                + "Gaussian's %.6g (lower is closer to the data)", beats ? "beats" : "does not beat", o.valLoss(),
                beats ? "<" : ">=", o.gaussianValLoss());
    }

    private static String num(Double v) {
        return v == null ? "n/a (density unknown)" : String.format(Locale.ROOT, "%.6g", v);
    }
}
