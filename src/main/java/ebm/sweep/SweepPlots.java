package ebm.sweep;

import ebm.plot.Charts;
import ebm.sweep.SweepReport.Arm;
import ebm.sweep.SweepReport.Contents;
import ebm.sweep.SweepReport.ObjectiveScale;
import ebm.sweep.SweepReport.RateStats;
import ebm.sweep.SweepReport.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The sweep's pictures, in the style of ebm.plot.Plots (800×600 PNG, white, grid lines): per objective the quality
 * against step and against seconds for each optimizer at its best rate (mean over seeds), and the final quality
 * against the learning rate (log x) for each optimizer: the sensitivity curve.
 */
final class SweepPlots {
    private SweepPlots() {}

    /** Writes the plots into `dir`; returns their file names. */
    static List<String> write(Contents c, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> written = new ArrayList<>();
        for (var e : charts(c).entrySet()) written.add(save(e.getValue(), dir, e.getKey()));
        return written;
    }

    /** The plots by file name, in the report's order. */
    static Map<String, XYChart> charts(Contents c) {
        Map<String, XYChart> written = new LinkedHashMap<>();
        for (var e : c.scales().entrySet()) {
            String objective = e.getKey();
            ObjectiveScale scale = e.getValue();
            List<Arm> arms = c.arms().stream().filter(a -> a.objective().equals(objective)).toList();
            String slug = objective.replaceAll("[^A-Za-z0-9.+-]", "-");
            boolean fisher = scale.metric().equals(SweepReport.FISHER);
            String yName = fisher ? "Fisher divergence (log)" : "held-out exact SM loss";
            boolean shared = arms.stream().filter(a -> a.best() != null).flatMap(a -> a.best().runs().stream()).anyMatch(Run::sharedCpu);

            XYChart byStep = chart(objective + ": " + scale.metric() + " at each optimizer's best rate", "step", yName, fisher);
            XYChart bySeconds = chart(objective + ": " + scale.metric() + " at each optimizer's best rate"
                    + (shared ? " (shared CPU)" : ""), "seconds", yName, fisher);
            boolean anyCurve = false;
            for (Arm a : arms) {
                if (a.best() == null) continue;
                double[][] curve = meanCurve(a.best(), scale.metric());
                if (curve[0].length == 0) continue;
                String label = a.optimizer() + " lr=" + SweepSpec.compact(a.best().lr());
                byStep.addSeries(label, curve[0], clamp(curve[2], fisher)).setMarker(SeriesMarkers.CIRCLE);
                bySeconds.addSeries(label, curve[1], clamp(curve[2], fisher)).setMarker(SeriesMarkers.CIRCLE);
                anyCurve = true;
            }
            if (anyCurve) {
                written.put(slug + "_" + scale.metric() + "_vs_step.png", byStep);
                written.put(slug + "_" + scale.metric() + "_vs_seconds.png", bySeconds);
            }

            XYChart sensitivity = chart(objective + ": final " + scale.metric() + " vs learning rate (diverged rates left out)",
                    "learning rate (log)", yName, fisher);
            sensitivity.getStyler().setXAxisLogarithmic(true);
            boolean anyPoint = false;
            for (Arm a : arms) {
                List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
                for (RateStats s : a.rates()) {
                    if (s.complete() && s.mean() != null) {
                        xs.add(s.lr());
                        ys.add(s.mean());
                    }
                }
                if (xs.isEmpty()) continue;
                sensitivity.addSeries(a.optimizer(), array(xs), clamp(array(ys), fisher)).setMarker(SeriesMarkers.CIRCLE);
                anyPoint = true;
            }
            if (anyPoint) written.put(slug + "_lr_sensitivity.png", sensitivity);
        }
        return written;
    }

    /** Steps, seconds and the metric, averaged over the finished seeds eval by eval (their eval steps are the same). */
    private static double[][] meanCurve(RateStats s, String metric) {
        List<Run> runs = s.runs().stream().filter(Run::finished).toList();
        int n = runs.stream().mapToInt(r -> r.evals().size()).min().orElse(0);
        List<Double> steps = new ArrayList<>(), seconds = new ArrayList<>(), values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int k = i;
            Double v = SweepReport.mean(runs.stream().map(r -> r.evals().get(k).metric(metric)).toList());
            if (v == null) continue;
            steps.add((double) runs.getFirst().evals().get(k).step());
            seconds.add(SweepReport.mean(runs.stream().map(r -> r.evals().get(k).seconds()).toList()));
            values.add(v);
        }
        return new double[][] {array(steps), array(seconds), array(values)};
    }

    /** The legend goes outside the plot (right of it), where it covers no curve. */
    static final Styler.LegendPosition LEGEND = Styler.LegendPosition.OutsideE;

    private static XYChart chart(String title, String x, String y, boolean logY) {
        XYChart c = Charts.chart(800, 600, title, x, y, LEGEND, 5);
        c.getStyler().setYAxisLogarithmic(logY);
        return c;
    }

    private static String save(XYChart c, Path dir, String name) throws IOException {
        RunFolder.writeAtomically(dir.resolve(name), Charts.pngBytes(c));
        return name;
    }

    /** A log axis needs positive values. */
    private static double[] clamp(double[] v, boolean logY) {
        if (!logY) return v;
        double[] out = v.clone();
        for (int i = 0; i < out.length; i++) out[i] = Math.max(out[i], 1e-12);
        return out;
    }

    private static double[] array(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
