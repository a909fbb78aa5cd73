package ebm.plot;

import ebm.config.ConfigLoader;
import ebm.config.ObjectiveConfig;
import ebm.config.RunConfig;
import ebm.data.UserData;
import ebm.io.MlpCheckpoint;
import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.objective.AnnealedDenoisingObjective;
import ebm.objective.DenoisingObjective;
import ebm.tape.Node;
import ebm.tape.Tape;
import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The run's pictures (PNG, XChart): loss and Fisher-divergence curves for every run; for 2-D data the energy's
 * contour lines, the learned score field as arrows, and samples against data. Line breaks inside one series are
 * NaN points, so a whole family of segments (contours, arrows) is one series.
 */
public final class Plots {
    private static final int WIDTH = 800;
    private static final int HEIGHT = 600;
    private static final Color DATA = new Color(120, 120, 120, 90);

    private Plots() {}

    /** A curve chart: the legend outside the plot, where it covers no curve. */
    private static XYChart chart(String title, String x, String y) {
        return Charts.chart(WIDTH, HEIGHT, title, x, y, Styler.LegendPosition.OutsideE, 3);
    }

    /** A chart of points in the plane (energy, score, samples): the legend inside, over the window's corner. */
    private static XYChart planeChart(String title) {
        return Charts.chart(WIDTH, HEIGHT, title, "x1", "x2", Styler.LegendPosition.InsideNE, 3);
    }

    private static void save(XYChart c, Path file) {
        Charts.savePng(c, file);
    }

    private static double[] column(List<Map<String, Object>> records, String key, List<Double> stepsOut) {
        List<Double> values = new ArrayList<>();
        stepsOut.clear();
        for (Map<String, Object> r : records) {
            if (r.get(key) instanceof Number n && Double.isFinite(n.doubleValue())) {
                values.add(n.doubleValue());
                stepsOut.add(((Number) r.get("step")).doubleValue());
            }
        }
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[] array(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The name of the resolved config a run folder holds (Trainer.CONFIG; the trainer's layer is above this one). */
    private static final String RUN_CONFIG = "config.yaml";

    /**
     * loss.png (batch loss and held-out exact SM loss) and fisher.png: the true Fisher divergence (log scale, with the
     * Gaussian baseline) where the density is known, else ({@link #heldOutLossChart}) the held-out SM loss against the
     * moment-matched Gaussian's, which ranks models the same way (it is the Fisher divergence to the data up to a
     * constant of the data). For the
     * denoising objectives the batch loss is drawn less its θ-free constant ({@link #lossConstant}, read from the run's
     * config.yaml in dir), which otherwise sits ~D/(2σ²) above everything and makes the curve look flat; the axis
     * title says so. metrics.jsonl keeps the loss as trained.
     */
    public static void curves(List<Map<String, Object>> records, Double gaussianFisher, Double gaussianValLoss, Path dir) {
        XYChart loss = lossChart(records, lossConstant(dir));
        if (loss != null) save(loss, dir.resolve("loss.png"));
        XYChart fisher = fisherChart(records, gaussianFisher);
        if (fisher == null) fisher = heldOutLossChart(records, gaussianValLoss);
        if (fisher != null) save(fisher, dir.resolve("fisher.png"));
    }

    /**
     * The part of a denoising loss that does not depend on θ, and how the plot writes it. ½E‖∇E(x̃) − ε/σ‖² expands
     * to ½E‖∇E‖² − E⟨∇E, ε/σ⟩ + ½E‖ε/σ‖², and the last term is D/(2σ²); the annealed form's ½‖∇E − ε‖² has D/2.
     */
    public record LossConstant(double value, String formula) {
        String text() {
            return formula + " = " + new java.math.BigDecimal(String.format(Locale.ROOT, "%.4g", value)).stripTrailingZeros().toPlainString();
        }
    }

    /** The θ-free constant of a denoising objective's loss with D inputs; null for the other objectives (they have none). */
    public static LossConstant lossConstant(ObjectiveConfig o, int dim) {
        return switch (o.name()) {
            case "denoising" -> new LossConstant(new DenoisingObjective(o.sigma(), 0).thetaFreeConstant(dim), "D/(2σ²)");
            case "annealed-denoising" -> new LossConstant(new AnnealedDenoisingObjective(
                    AnnealedDenoisingObjective.geometricLevels(o.sigmaMax(), o.sigmaMin(), o.levels()), 0).thetaFreeConstant(dim), "D/2");
            default -> null;
        };
    }

    /**
     * The constant for the run in dir, from its config.yaml; D is data.dim, else the checkpoint's input width, else the
     * data file's. Null when the run is not a denoising one or D cannot be found (the loss is then drawn as logged).
     */
    static LossConstant lossConstant(Path dir) {
        Path file = dir.resolve(RUN_CONFIG);
        if (!Files.isRegularFile(file)) return null;
        try {
            RunConfig config = ConfigLoader.load(file, List.of());
            if (!(config.objective().name().equals("denoising") || config.objective().name().equals("annealed-denoising"))) return null;
            Integer dim = config.data().dim();
            Path checkpoint = dir.resolve("checkpoint.safetensors");
            if (dim == null && Files.isRegularFile(checkpoint)) dim = MlpCheckpoint.load(checkpoint).spec().inputDim();
            if (dim == null && config.data().path() != null) dim = UserData.load(Path.of(config.data().path()), -1).cols();
            return dim == null ? null : lossConstant(config.objective(), dim);
        } catch (RuntimeException e) {
            return null; // a plot is no reason to fail a finished run: draw the loss as logged
        }
    }

    /** loss.png's chart; the batch loss less constant when it is not null. Null when no step has a loss. */
    public static XYChart lossChart(List<Map<String, Object>> records, LossConstant constant) {
        List<Double> steps = new ArrayList<>();
        double[] l = column(records, "loss", steps);
        if (l.length == 0) return null;
        String yTitle = constant == null ? "loss" : "loss (batch: less its θ-free constant " + constant.text() + ")";
        XYChart loss = chart("Score-matching loss", "step", yTitle);
        double[] shown = l.clone();
        if (constant != null) for (int i = 0; i < shown.length; i++) shown[i] -= constant.value();
        loss.addSeries(constant == null ? "batch loss" : "batch loss − " + constant.formula(), array(steps), shown)
                .setMarker(SeriesMarkers.NONE);
        double[] v = column(records, "val_loss", steps);
        if (v.length > 0) loss.addSeries("held-out exact SM loss", array(steps), v).setMarker(SeriesMarkers.CIRCLE);
        return loss;
    }

    /** fisher.png's chart; null when no eval step has a Fisher divergence. */
    public static XYChart fisherChart(List<Map<String, Object>> records, Double gaussianFisher) {
        List<Double> steps = new ArrayList<>();
        double[] f = column(records, "fisher_divergence", steps);
        if (f.length == 0) return null;
        XYChart fisher = chart("True Fisher divergence ½E‖s_θ − s*‖² (held-out)", "step", "Fisher divergence (log)");
        fisher.getStyler().setYAxisLogarithmic(true);
        double[] fs = array(steps);
        fisher.addSeries("model vs p", fs, positive(f)).setMarker(SeriesMarkers.CIRCLE);
        double[] fn = column(records, "fisher_divergence_noised", steps);
        if (fn.length > 0) fisher.addSeries("model vs noised p_σ", array(steps), positive(fn)).setMarker(SeriesMarkers.DIAMOND);
        if (gaussianFisher != null && gaussianFisher > 0) {
            fisher.addSeries("moment-matched Gaussian", new double[] {fs[0], fs[fs.length - 1]},
                    new double[] {gaussianFisher, gaussianFisher}).setMarker(SeriesMarkers.NONE);
        }
        return fisher;
    }

    /**
     * fisher.png's chart where the density is unknown (file data): the model's held-out exact SM loss over the eval
     * steps and the moment-matched Gaussian's as a constant line (linear scale: the loss may be negative). Null when no
     * eval step has a val_loss.
     */
    public static XYChart heldOutLossChart(List<Map<String, Object>> records, Double gaussianValLoss) {
        List<Double> steps = new ArrayList<>();
        double[] v = column(records, "val_loss", steps);
        if (v.length == 0) return null;
        XYChart chart = chart("Held-out exact SM loss (density unknown: no true Fisher divergence)", "step",
                "held-out SM loss = Fisher divergence to the data + a constant");
        double[] vs = array(steps);
        chart.addSeries("model", vs, v).setMarker(SeriesMarkers.CIRCLE);
        if (gaussianValLoss != null && Double.isFinite(gaussianValLoss)) {
            chart.addSeries("moment-matched Gaussian", new double[] {vs[0], vs[vs.length - 1]},
                    new double[] {gaussianValLoss, gaussianValLoss}).setMarker(SeriesMarkers.NONE);
        }
        return chart;
    }

    private static double[] positive(double[] v) {
        double[] out = v.clone();
        for (int i = 0; i < out.length; i++) out[i] = Math.max(out[i], 1e-12);
        return out;
    }

    /** A square window around 2-D points: 1st..99th percentile per axis, widened by a quarter. */
    public static double[] window(double[] points, int n) {
        double[] xs = new double[n], ys = new double[n];
        for (int i = 0; i < n; i++) {
            xs[i] = points[2 * i];
            ys[i] = points[2 * i + 1];
        }
        Arrays.sort(xs);
        Arrays.sort(ys);
        double x0 = xs[n / 100], x1 = xs[n - 1 - n / 100], y0 = ys[n / 100], y1 = ys[n - 1 - n / 100];
        double half = 0.625 * Math.max(x1 - x0, y1 - y0) + 1e-9;
        double cx = 0.5 * (x0 + x1), cy = 0.5 * (y0 + y1);
        return new double[] {cx - half, cx + half, cy - half, cy + half};
    }

    private static void addPoints(XYChart c, String name, double[] points, int n, int max, Color color) {
        int m = Math.min(n, max);
        double[] xs = new double[m], ys = new double[m];
        for (int i = 0; i < m; i++) {
            int k = (int) ((long) i * n / m);
            xs[i] = points[2 * k];
            ys[i] = points[2 * k + 1];
        }
        XYSeries s = c.addSeries(name, xs, ys);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarkerColor(color);
        s.setMarker(SeriesMarkers.CIRCLE);
    }

    /** g x g points spanning window w = {x0, x1, y0, y1}, row-major with x varying fastest. */
    private static double[] grid(double[] w, int g) {
        double[] grid = new double[g * g * 2];
        for (int i = 0; i < g; i++) {
            for (int j = 0; j < g; j++) {
                grid[2 * (i * g + j)] = w[0] + (w[1] - w[0]) * j / (g - 1);
                grid[2 * (i * g + j) + 1] = w[2] + (w[3] - w[2]) * i / (g - 1);
            }
        }
        return grid;
    }

    /** What the bound energy computes (E, ∇E) at n 2-D points, on a CPU tape of its own. */
    private static double[] atPoints(EnergyModel model, double[] params, double[] points, int n,
                                     BiFunction<BoundEnergy<Node>, Node, Node> what) {
        Tape t = new Tape();
        return what.apply(model.bind(t, params), t.constant(points, n, 2)).value;
    }

    /** {xs, ys} of polylines drawn as one series: each line's points, then a NaN point that breaks the line. */
    private static double[][] brokenLines(List<double[][]> lines) {
        int n = 0;
        for (double[][] line : lines) n += line.length + 1;
        double[] xs = new double[n], ys = new double[n];
        int i = 0;
        for (double[][] line : lines) {
            for (double[] p : line) {
                xs[i] = p[0];
                ys[i++] = p[1];
            }
            xs[i] = Double.NaN;
            ys[i++] = Double.NaN;
        }
        return new double[][] {xs, ys};
    }

    private static void frame(XYChart c, double[] w) {
        c.getStyler().setXAxisMin(w[0]).setXAxisMax(w[1]).setYAxisMin(w[2]).setYAxisMax(w[3]);
    }

    /** energy.png: contour lines of E (2-D) over the data, 10 levels between its 2nd and 80th percentile on a grid. */
    public static void energyContours(EnergyModel model, double[] params, double[] data, int n, Path file) {
        double[] w = window(data, n);
        int g = 120;
        double[] grid = grid(w, g);
        double[] e = atPoints(model, params, grid, g * g, BoundEnergy::energy);
        double[] sorted = e.clone();
        Arrays.sort(sorted);
        double lo = sorted[(int) (0.02 * sorted.length)], hi = sorted[(int) (0.8 * sorted.length)];
        XYChart c = planeChart("Learned energy E(x): contour lines (low = dark) over data");
        addPoints(c, "data", data, n, 2000, DATA);
        int levels = 10;
        for (int k = 0; k < levels; k++) {
            double level = lo + (hi - lo) * (k + 0.5) / levels;
            List<double[]> segs = MarchingSquares.segments(e, g, g, level, w);
            if (segs.isEmpty()) continue;
            List<double[][]> lines = new ArrayList<>();
            for (double[] seg : segs) lines.add(new double[][] {{seg[0], seg[1]}, {seg[2], seg[3]}});
            double[][] xy = brokenLines(lines);
            // the level number keeps names unique when a nearly flat energy gives levels that print alike
            XYSeries series = c.addSeries(String.format(java.util.Locale.ROOT, "%d: E = %.3g", k + 1, level), xy[0], xy[1]);
            series.setMarker(SeriesMarkers.NONE);
            float shade = (float) k / levels;
            series.setLineColor(new Color(0.1f + 0.8f * shade, 0.2f + 0.5f * shade, 0.6f - 0.5f * shade));
            series.setLineStyle(new BasicStroke(1.6f));
        }
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        frame(c, w);
        save(c, file);
    }

    /** score.png: the learned score −∇E as arrows on a 21×21 grid over the data (lengths scaled to fit a cell). */
    public static void scoreField(EnergyModel model, double[] params, double[] data, int n, Path file) {
        double[] w = window(data, n);
        int g = 21;
        double[] grid = grid(w, g);
        double[] grad = atPoints(model, params, grid, g * g, BoundEnergy::gradX);
        double maxLen = 1e-12;
        for (int k = 0; k < g * g; k++) maxLen = Math.max(maxLen, Math.hypot(grad[2 * k], grad[2 * k + 1]));
        double cell = (w[1] - w[0]) / (g - 1);
        List<double[][]> arrows = new ArrayList<>();
        for (int k = 0; k < g * g; k++) {
            double x0 = grid[2 * k], y0 = grid[2 * k + 1];
            // length ∝ sqrt(|s|) so weak and strong regions both stay visible
            double sx = -grad[2 * k], sy = -grad[2 * k + 1], len = Math.hypot(sx, sy);
            double scale = len > 0 ? 0.9 * cell * Math.sqrt(len / maxLen) / len : 0;
            double x1 = x0 + sx * scale, y1 = y0 + sy * scale;
            double hx = (x0 - x1) * 0.3, hy = (y0 - y1) * 0.3;
            arrows.add(new double[][] {{x0, y0}, {x1, y1}, {x1 + hx - 0.5 * hy, y1 + hy + 0.5 * hx}, {x1, y1},
                {x1 + hx + 0.5 * hy, y1 + hy - 0.5 * hx}});
        }
        double[][] xy = brokenLines(arrows);
        XYChart c = planeChart("Learned score s_θ = −∇E (arrow length ∝ √|s|) over data");
        addPoints(c, "data", data, n, 2000, DATA);
        XYSeries s = c.addSeries("score", xy[0], xy[1]);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(new Color(200, 40, 30));
        frame(c, w);
        save(c, file);
    }

    /** samples.png: samples (red) against held-out data (grey). */
    public static void samples(double[] samples, int m, double[] data, int n, Path file, String title) {
        double[] w = window(data, n);
        XYChart c = planeChart(title);
        addPoints(c, "data", data, n, 2000, DATA);
        addPoints(c, "samples", samples, m, 2000, new Color(200, 40, 30, 140));
        frame(c, w);
        save(c, file);
    }
}
