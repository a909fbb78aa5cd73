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
        rows.add(new String[] {"steps", Long.toString(o.step())});
        rows.add(new String[] {"wall time", Progress.duration(o.seconds()) + String.format(Locale.ROOT, " (%.1f ms/step)",
                1000 * o.seconds() / Math.max(1, o.step()))});
        rows.add(new String[] {"final batch loss", num(o.loss())});
        rows.add(new String[] {"held-out exact SM loss", num(o.valLoss())});
        rows.add(new String[] {"Fisher divergence ½E‖s_θ − s*‖²", num(o.fisher())});
        if (o.fisherNoised() != null) rows.add(new String[] {"Fisher divergence to p_σ", num(o.fisherNoised())});
        rows.add(new String[] {"moment-matched Gaussian's Fisher divergence", num(o.gaussianFisher())});
        if (o.fisher() != null && o.gaussianFisher() != null) {
            rows.add(new String[] {"ratio model / Gaussian", String.format(Locale.ROOT, "%.3g", o.fisher() / o.gaussianFisher())});
        }
        if (o.gaussianValLoss() != null) {
            rows.add(new String[] {"moment-matched Gaussian's held-out exact SM loss", num(o.gaussianValLoss())});
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

    private static String num(Double v) {
        return v == null ? "n/a (density unknown)" : String.format(Locale.ROOT, "%.6g", v);
    }
}
