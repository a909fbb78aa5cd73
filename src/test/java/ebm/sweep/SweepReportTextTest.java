package ebm.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import ebm.TestTexts;
import ebm.config.RunConfig;
import ebm.plot.Charts;
import ebm.sweep.SweepReport.Arm;
import ebm.sweep.SweepReport.Contents;
import ebm.sweep.SweepReport.Eval;
import ebm.sweep.SweepReport.ObjectiveScale;
import ebm.sweep.SweepReport.RateStats;
import ebm.sweep.SweepReport.Run;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.Styler;

/**
 * The sweep report's sentences and plots, built from small synthetic contents (no training): with no run, one run,
 * one optimizer, several, one seed or several, and with runs that did not finish.
 */
class SweepReportTextTest {
    private static final RunConfig CONFIG = new RunConfig(null, null, null, null, null, null, null, null);

    private static int index;

    /** A run whose Fisher divergence falls from 1 to `fisher` over steps 50..200. */
    private static Run run(String objective, String optimizer, double lr, RunFolder.Status status, double fisher, boolean shared) {
        List<Eval> evals = new ArrayList<>();
        for (int step = 50; step <= 200; step += 50) {
            double f = Math.pow(fisher, step / 200.0);
            evals.add(new Eval(step, step * 0.01, f, null, -1.0 - f));
        }
        Map<String, JsonNode> values = new LinkedHashMap<>();
        return new Run(index++, objective + "_" + optimizer + "_lr" + lr, values, CONFIG, objective, optimizer, lr, status,
                status == RunFolder.Status.DIVERGED ? "loss is NaN at step 30" : null, status == RunFolder.Status.FINISHED ? 200 : 30,
                status == RunFolder.Status.DIVERGED ? List.of() : evals, 2.0, shared, Map.of());
    }

    /** One objective × optimizer arm over its runs (grouped by rate), with the best rate picked as SweepReport does. */
    private static Arm arm(List<Run> runs) {
        Map<Double, List<Run>> byRate = new java.util.TreeMap<>();
        for (Run r : runs) byRate.computeIfAbsent(r.lr(), k -> new ArrayList<>()).add(r);
        List<RateStats> rates = new ArrayList<>();
        RateStats best = null;
        for (var e : byRate.entrySet()) {
            List<Double> q = e.getValue().stream().filter(Run::finished).map(r -> r.last(Eval::fisher)).toList();
            int finished = (int) e.getValue().stream().filter(Run::finished).count();
            int diverged = (int) e.getValue().stream().filter(r -> r.status() == RunFolder.Status.DIVERGED).count();
            RateStats s = new RateStats(e.getKey(), e.getValue(), finished, diverged, SweepReport.mean(q), SweepReport.sd(q));
            rates.add(s);
            if (s.complete() && s.mean() != null && (best == null || s.mean() < best.mean())) best = s;
        }
        return new Arm(runs.getFirst().objective(), runs.getFirst().optimizer(), rates, best);
    }

    private static Contents contents(List<Arm> arms, List<String> skipped) {
        List<Run> runs = arms.stream().flatMap(a -> a.rates().stream()).flatMap(s -> s.runs().stream()).toList();
        Map<String, ObjectiveScale> scales = new LinkedHashMap<>();
        for (Arm a : arms) {
            Double best = a.rates().stream().flatMap(s -> s.runs().stream()).filter(Run::finished).map(r -> r.best(Eval::fisher))
                    .min(Double::compare).orElse(null);
            ObjectiveScale old = scales.get(a.objective());
            Double b = best;
            if (old != null && old.best() != null) b = best == null ? old.best() : Double.valueOf(Math.min(best, old.best()));
            scales.put(a.objective(), new ObjectiveScale(SweepReport.FISHER, b, b == null ? null : 2 * b));
        }
        return new Contents(runs, scales, arms, skipped);
    }

    private static String report(Contents c) {
        String md = SweepReport.markdown(c, List.of());
        System.out.println(md);
        return md;
    }

    @Test
    void noRunsReadAsNone() {
        String md = report(contents(List.of(), List.of()));
        TestTexts.assertContains(md,
                "No runs in `runs/` have started yet.",
                "No run has been read, so there is nothing to compare.");
        assertFalse(md.contains("0 runs"), md);
    }

    @Test
    void oneRunOneOptimizer() {
        String md = report(contents(List.of(arm(List.of(run("exact", "adamw", 0.01, RunFolder.Status.FINISHED, 0.02, true)))), List.of()));
        TestTexts.assertContains(md,
                "1 run in `runs/`: 1 finished. It shared the CPU with others",
                "Ranking (best first): 1. adamw (0.02000), the only optimizer that finished every seed at some rate.",
                "Only one objective in this sweep, so there is nothing to compare.");
        assertFalse(md.contains("1 runs") || md.contains("Some runs"), md);
    }

    @Test
    void manyRunsManyOptimizersAndTheOnesThatDidNotFinish() {
        List<Arm> arms = List.of(
                arm(List.of(run("exact", "adamw", 0.01, RunFolder.Status.FINISHED, 0.02, false),
                        run("exact", "adamw", 0.03, RunFolder.Status.DIVERGED, 0, false))),
                arm(List.of(run("exact", "sgd", 0.1, RunFolder.Status.FINISHED, 0.05, true))),
                arm(List.of(run("denoising", "adamw", 0.01, RunFolder.Status.FINISHED, 0.03, false))),
                arm(List.of(run("denoising", "sgd", 0.1, RunFolder.Status.UNFINISHED, 0.3, false))));
        String md = report(contents(arms, List.of("stray (no sweep-point.json)")));
        TestTexts.assertContains(md,
                "5 runs in `runs/`: 3 finished, 1 diverged and 1 unfinished. 1 of them shared the CPU",
                "Ranking (best first): 1. adamw (0.02000), 2. sgd (0.05000); one seed per rate, so no spread to judge ties by.",
                "Ranking (best first): 1. adamw (0.03000), the only optimizer");
        // sgd finished no seed under denoising: only adamw is ranked under both
        TestTexts.assertContains(md,
                "Only adamw was ranked under every objective, so the rankings cannot be compared "
                + "(exact: adamw, sgd; denoising: adamw).",
                "Run the sweep again to continue the run that stopped short; a diverged run stays recorded "
                + "(delete its folder to retry it); a folder not read has no point record or has not started");
    }

    @Test
    void rankingWithSeedsMarksTiesOnlyWhereThereAreSome() {
        Arm a = arm(List.of(run("exact", "adamw", 0.01, RunFolder.Status.FINISHED, 0.020, false),
                run("exact", "adamw", 0.01, RunFolder.Status.FINISHED, 0.022, false)));
        Arm b = arm(List.of(run("exact", "muon", 0.02, RunFolder.Status.FINISHED, 0.021, false),
                run("exact", "muon", 0.02, RunFolder.Status.FINISHED, 0.023, false)));
        Arm c = arm(List.of(run("exact", "sgd", 0.1, RunFolder.Status.FINISHED, 0.5, false),
                run("exact", "sgd", 0.1, RunFolder.Status.FINISHED, 0.6, false)));
        String text = SweepReport.rankingText(SweepReport.ranking(List.of(a, b, c)));
        System.out.println(text);
        assertTrue(text.startsWith("1. adamw (0.02100) ≈ 2. muon (0.02200), 3. sgd (0.5500)") && text.endsWith("(≈: means closer than their spreads)"), text);
        String apart = SweepReport.rankingText(SweepReport.ranking(List.of(a, c)));
        assertEquals("1. adamw (0.02100), 2. sgd (0.5500)", apart);
        Arm oneSeed = arm(List.of(run("exact", "shampoo", 0.01, RunFolder.Status.FINISHED, 0.03, false)));
        assertTrue(SweepReport.rankingText(SweepReport.ranking(List.of(a, oneSeed))).endsWith(
                "; one optimizer has one seed at its best rate, so ties with it cannot be judged"));
    }

    @Test
    void comparisonOfRankingsAcrossObjectives() {
        List<Arm> same = List.of(
                arm(List.of(run("exact", "adamw", 0.01, RunFolder.Status.FINISHED, 0.02, false))),
                arm(List.of(run("exact", "sgd", 0.1, RunFolder.Status.FINISHED, 0.05, false))),
                arm(List.of(run("denoising", "adamw", 0.01, RunFolder.Status.FINISHED, 0.03, false))),
                arm(List.of(run("denoising", "sgd", 0.1, RunFolder.Status.FINISHED, 0.06, false))));
        String text = SweepReport.rankingComparison(contents(same, List.of()));
        System.out.println(text);
        assertTrue(text.startsWith("The ranking of optimizers (best first) is the same under every objective: exact: adamw, sgd; "
                + "denoising: adamw, sgd."), text);
        List<Arm> none = List.of(
                arm(List.of(run("exact", "adamw", 0.01, RunFolder.Status.DIVERGED, 0, false))),
                arm(List.of(run("denoising", "sgd", 0.1, RunFolder.Status.FINISHED, 0.06, false))));
        text = SweepReport.rankingComparison(contents(none, List.of()));
        System.out.println(text);
        assertEquals("No optimizer was ranked under every objective, so the rankings cannot be compared (exact: none ranked; "
                + "denoising: sgd).", text);
    }

    /** The learning-rate legend sat inside the plot (top right) and covered the fast optimizers' curves. */
    @Test
    void plotLegendsSitOutsideThePlotAndLogAxesAreLabelled() {
        List<Arm> arms = new ArrayList<>();
        for (String opt : List.of("sgd", "nesterov", "adamw", "shampoo", "muon")) {
            List<Run> runs = new ArrayList<>();
            for (double lr : new double[] {0.003, 0.01, 0.03}) runs.add(run("exact", opt, lr, RunFolder.Status.FINISHED, 0.02 + lr, false));
            arms.add(arm(runs));
        }
        Map<String, XYChart> charts = SweepPlots.charts(contents(arms, List.of()));
        assertEquals(List.of("exact_fisher_divergence_vs_step.png", "exact_fisher_divergence_vs_seconds.png", "exact_lr_sensitivity.png"),
                List.copyOf(charts.keySet()));
        for (var e : charts.entrySet()) {
            assertEquals(Styler.LegendPosition.OutsideE, e.getValue().getStyler().getLegendPosition(), e.getKey());
        }
        Charts.AxisTicks lr = Charts.ticks(charts.get("exact_lr_sensitivity.png"));
        System.out.println("lr axis labels " + lr.x().labels() + "; quality axis labels " + lr.y().labels());
        assertEquals(List.of("0.003", "0.004", "0.005", "0.006", "0.007", "0.008", "0.009", "0.01", "0.02", "0.03"), lr.x().labels());
        assertTrue(lr.y().labels().size() >= 3, lr.y().labels().toString());
    }
}
