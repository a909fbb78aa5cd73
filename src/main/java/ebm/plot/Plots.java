package ebm.plot;

import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.tape.Node;
import ebm.tape.Tape;
import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

    private static XYChart chart(String title, String x, String y) {
        return Charts.chart(WIDTH, HEIGHT, title, x, y, Styler.LegendPosition.InsideNE, 3);
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

    /** loss.png (batch loss and held-out exact SM loss) and fisher.png (log scale, with the Gaussian baseline). */
    public static void curves(List<Map<String, Object>> records, Double gaussianFisher, Path dir) {
        List<Double> steps = new ArrayList<>();
        XYChart loss = chart("Score-matching loss", "step", "loss");
        double[] l = column(records, "loss", steps);
        if (l.length > 0) loss.addSeries("batch loss", array(steps), l).setMarker(SeriesMarkers.NONE);
        double[] v = column(records, "val_loss", steps);
        if (v.length > 0) loss.addSeries("held-out exact SM loss", array(steps), v).setMarker(SeriesMarkers.CIRCLE);
        if (l.length > 0) save(loss, dir.resolve("loss.png"));

        double[] f = column(records, "fisher_divergence", steps);
        if (f.length == 0) return;
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
        save(fisher, dir.resolve("fisher.png"));
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
        XYChart c = chart("Learned energy E(x): contour lines (low = dark) over data", "x1", "x2");
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
        XYChart c = chart("Learned score s_θ = −∇E (arrow length ∝ √|s|) over data", "x1", "x2");
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
        XYChart c = chart(title, "x1", "x2");
        addPoints(c, "data", data, n, 2000, DATA);
        addPoints(c, "samples", samples, m, 2000, new Color(200, 40, 30, 140));
        frame(c, w);
        save(c, file);
    }
}
