package ebm.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestNets;
import ebm.config.ConfigLoader;
import ebm.config.DataConfig;
import ebm.config.ObjectiveConfig;
import ebm.config.RunConfig;
import ebm.model.Mlp;
import ebm.tape.Activation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.Styler;

class PlotsTest {
    @TempDir
    Path tmp;

    /** A nearly flat energy gives contour levels that print alike; the plot must still be written. */
    @Test
    void contoursOfANearlyFlatEnergyAreWritten() throws IOException {
        Mlp mlp = new Mlp(TestNets.spec(new int[] {2, 8}, Activation.SOFTPLUS));
        double[] p = mlp.initialParams(1);
        var out = mlp.layout().view("out.weight");
        for (int i = 0; i < out.size(); i++) p[out.offset() + i] *= 1e-7;
        double[] data = TestNets.points(300, 2, 3);
        Path file = tmp.resolve("energy.png");
        Plots.energyContours(mlp, p, data, 300, file);
        System.out.println("wrote " + file + ", " + Files.size(file) + " bytes");
        assertTrue(Files.size(file) > 1000);
    }

    /** metrics.jsonl-like records: steps 1..n, a loss each, an eval every `every` steps (Fisher from 1.85 down to 0.0203). */
    private static List<Map<String, Object>> records(int n, int every, double lossOffset) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int step = 1; step <= n; step++) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("step", step);
            r.put("loss", lossOffset - 4 * (1 - Math.exp(-step / 100.0)) + 0.1 * Math.sin(step));
            if (step % every == 0) {
                r.put("val_loss", -4.0);
                r.put("fisher_divergence", 1.85 * Math.pow(0.0203 / 1.85, (double) step / n));
            }
            out.add(r);
        }
        return out;
    }

    private static void writeConfig(Path dir, String objective) throws IOException {
        Files.createDirectories(dir);
        RunConfig c = new RunConfig(0L, null, null, new DataConfig(null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null), null, new ObjectiveConfig(objective, null, null, null, 0.1, 1.0, 0.01, 10), null, null);
        Files.writeString(dir.resolve("config.yaml"), ConfigLoader.toYaml(c));
    }

    /** loss.png had x labels at 1, 90, 179, …; fisher.png one label per decade (0.1 and 1 only), the ends unlabelled. */
    @Test
    void curveAxesHaveRoundAndReadableTicks() {
        List<Map<String, Object>> recs = records(1500, 250, 0);
        XYChart loss = Plots.lossChart(recs, null);
        Charts.AxisTicks lossTicks = Charts.ticks(loss);
        System.out.println("loss.png x labels " + lossTicks.x().labels() + ", y labels " + lossTicks.y().labels());
        assertEquals(List.of("200", "400", "600", "800", "1000", "1200", "1400"), lossTicks.x().labels());
        XYChart fisher = Plots.fisherChart(recs, 1.85);
        Charts.AxisTicks fisherTicks = Charts.ticks(fisher);
        System.out.println("fisher.png y labels " + fisherTicks.y().labels() + ", minor " + fisherTicks.y().minorValues());
        assertEquals(List.of("0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"), fisherTicks.y().labels());
        assertTrue(fisherTicks.y().minorValues().contains(0.03) && fisherTicks.y().minorValues().contains(0.9));
        // the plot is scaled to the ticked range, and rendering leaves the chart as it was
        Charts.render(fisher);
        assertNull(fisher.getStyler().getYAxisMin());
        assertEquals(fisherTicks, Charts.ticks(fisher));
    }

    /** fisher.png's legend covered the moment-matched Gaussian's line (InsideNE, at the top of the plot). */
    @Test
    void curveLegendsSitOutsideThePlot() {
        List<Map<String, Object>> recs = records(300, 50, 0);
        assertEquals(Styler.LegendPosition.OutsideE, Plots.lossChart(recs, null).getStyler().getLegendPosition());
        assertEquals(Styler.LegendPosition.OutsideE, Plots.fisherChart(recs, 1.85).getStyler().getLegendPosition());
    }

    /** The denoising loss sat ≈ D/(2σ²) = 100 above the held-out exact SM loss and looked flat; metrics keep it. */
    @Test
    void denoisingLossIsPlottedWithoutItsThetaFreeConstant() throws IOException {
        Path dir = tmp.resolve("dsm");
        writeConfig(dir, "denoising");
        Plots.LossConstant k = Plots.lossConstant(dir);
        assertEquals(2 / (2 * 0.1 * 0.1), k.value(), 1e-9); // two-peaks: D = 2, σ = 0.1
        List<Map<String, Object>> recs = records(300, 50, 100);
        XYChart loss = Plots.lossChart(recs, k);
        double[] shown = loss.getSeriesMap().get("batch loss − D/(2σ²)").getYData();
        double[] expected = recs.stream().mapToDouble(r -> (Double) r.get("loss") - 100).toArray();
        assertArrayEquals(expected, shown, 1e-9);
        System.out.println("denoising loss.png y axis: " + loss.getYAxisTitle() + "; y labels " + Charts.ticks(loss).y().labels());
        assertTrue(loss.getYAxisTitle().contains("θ-free constant D/(2σ²) = 100"), loss.getYAxisTitle());
        // the held-out exact SM loss is drawn as logged
        assertArrayEquals(new double[] {-4, -4, -4, -4, -4, -4}, loss.getSeriesMap().get("held-out exact SM loss").getYData());

        Path annealed = tmp.resolve("annealed");
        writeConfig(annealed, "annealed-denoising");
        assertEquals(1.0, Plots.lossConstant(annealed).value(), 0); // D/2
        assertTrue(Plots.lossChart(recs, Plots.lossConstant(annealed)).getYAxisTitle().contains("D/2 = 1"));

        Path exact = tmp.resolve("exact");
        writeConfig(exact, "exact");
        assertNull(Plots.lossConstant(exact));
        XYChart plain = Plots.lossChart(recs, null);
        assertEquals("loss", plain.getYAxisTitle());
        assertArrayEquals(expected, Arrays.stream(plain.getSeriesMap().get("batch loss").getYData()).map(v -> v - 100).toArray(), 1e-9);
        assertNull(Plots.lossConstant(tmp.resolve("no-such-run")));
    }

    /** File data has no Fisher divergence: fisher.png draws the held-out SM loss and the Gaussian's, saying so. */
    @Test
    void withoutAFisherDivergenceTheHeldOutLossIsDrawnAgainstTheGaussians() throws IOException {
        List<Map<String, Object>> recs = records(300, 50, 0);
        recs.forEach(r -> r.remove("fisher_divergence"));
        assertNull(Plots.fisherChart(recs, null));
        XYChart chart = Plots.heldOutLossChart(recs, -2.25);
        System.out.println("file data fisher.png: " + chart.getTitle() + " / " + chart.getYAxisTitle() + ", series "
                + chart.getSeriesMap().keySet());
        assertEquals("Held-out exact SM loss (density unknown: no true Fisher divergence)", chart.getTitle());
        assertArrayEquals(new double[] {-4, -4, -4, -4, -4, -4}, chart.getSeriesMap().get("model").getYData());
        assertArrayEquals(new double[] {-2.25, -2.25}, chart.getSeriesMap().get("moment-matched Gaussian").getYData());
        Path dir = tmp.resolve("file");
        Files.createDirectories(dir);
        Plots.curves(recs, null, -2.25, dir);
        assertTrue(Files.size(dir.resolve("fisher.png")) > 1000);
    }

    @Test
    void curvesWritesTheSameFiles() throws IOException {
        Path dir = tmp.resolve("curves");
        writeConfig(dir, "denoising");
        Plots.curves(records(200, 50, 100), 1.85, null, dir);
        for (String png : List.of("loss.png", "fisher.png")) assertTrue(Files.size(dir.resolve(png)) > 1000, png);
    }
}
