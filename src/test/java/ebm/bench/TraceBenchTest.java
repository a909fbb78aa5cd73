package ebm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestTexts;
import ebm.bench.TraceBench.CurvePoint;
import ebm.bench.TraceBench.EstimatorError;
import ebm.bench.TraceBench.ExactReference;
import ebm.bench.TraceBench.Row;
import ebm.cli.Cli;
import ebm.data.DataSources;
import ebm.model.Mlp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ebm bench trace` on tiny sizes: what it writes, the estimator-error measurements, the verdict, bad options. */
class TraceBenchTest {
    @TempDir
    Path tmp;

    private static final int DIM = 8;

    /** A small fixed model and batch of mixture points, and its exact loss and gradient. */
    private record Fixture(Mlp mlp, double[] params, double[] x, int batch, ExactReference exact) {
        static Fixture make() {
            Mlp mlp = TraceBench.model(DIM, 16, 2);
            double[] params = mlp.initialParams(1);
            int batch = 32;
            double[] x = Arrays.copyOf(DataSources.trainSamples(TraceBench.mixture(DIM), 0, batch).data(), batch * DIM);
            return new Fixture(mlp, params, x, batch, TraceBench.exactReference(mlp, params, x, batch, true));
        }

        EstimatorError error(String method, int draws) {
            return TraceBench.estimatorError(method, TraceBench.objective(method, 0.1), mlp, params, x, batch, exact, draws);
        }
    }

    @Test
    void smallGridWritesTheCsvColumnsReportAndPlots() throws IOException {
        Path out = tmp.resolve("trace");
        Cli r = Cli.run("bench", "trace", "--quick", "--dims", "2,3", "--hidden", "8", "--layers", "2",
                "--batch", "16", "--budget", "0.2", "--draws", "4",
                "--methods", "exact-per-dimension,exact-row-space,hutchinson-2,denoising", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        List<String> header = Arrays.asList(csv.getFirst().split(","));
        System.out.println("results.csv header: " + header + ", " + (csv.size() - 1) + " rows");
        for (String column : List.of("method", "D", "H", "layers", "batch", "backend", "ms_per_step", "peak_bytes",
                "loss_rel_var", "grad_rel_var", "grad_rel_bias", "fisher_at_budget", "gemm_gflop_per_step")) {
            assertTrue(header.contains(column), "missing column " + column);
        }
        assertEquals(1 + 2 * 4, csv.size());
        int ms = header.indexOf("ms_per_step"), bytes = header.indexOf("peak_bytes"), fisher = header.indexOf("fisher_at_budget");
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",", -1);
            assertTrue(Double.parseDouble(f[ms]) > 0 && Long.parseLong(f[bytes]) > 0 && Double.isFinite(Double.parseDouble(f[fisher])), line);
        }
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("**Verdict.**") && report.contains("## Cost per training step"), report);
        for (String png : List.of("time_vs_dim.png", "cost_ratio_vs_dim.png", "fisher_vs_seconds_D2.png", "fisher_vs_seconds_D3.png")) {
            assertTrue(Files.size(out.resolve(png)) > 1000, png);
        }
        assertTrue(Files.readAllLines(out.resolve("curves.csv")).size() > 8);
    }

    @Test
    void exactMethodsHaveZeroSpreadAcrossDraws() {
        Fixture f = Fixture.make();
        for (String method : List.of("exact-per-dimension", "exact-row-space")) {
            EstimatorError e = f.error(method, 3);
            System.out.printf("%s over 3 draws: loss_rel_var %.3g grad_rel_var %.3g grad_rel_bias %.3g%n", method,
                    e.lossRelVar(), e.gradRelVar(), e.gradRelBias());
            assertEquals(0, e.lossRelVar(), 1e-28);
            assertTrue(e.gradRelVar() < 1e-26 && e.gradRelBias() < 1e-13, method + " " + e);
        }
    }

    @Test
    void hutchinsonVarianceFallsAsProbesGrow() {
        Fixture f = Fixture.make();
        EstimatorError one = f.error("hutchinson-1", 24), sixteen = f.error("hutchinson-16", 24);
        System.out.printf("hutchinson-1: loss_rel_var %.3g grad_rel_var %.3g; hutchinson-16: loss_rel_var %.3g "
                + "grad_rel_var %.3g (1/K predicts a 16x fall)%n", one.lossRelVar(), one.gradRelVar(), sixteen.lossRelVar(),
                sixteen.gradRelVar());
        assertTrue(sixteen.gradRelVar() * 4 < one.gradRelVar(), "gradient variance should fall with K");
        assertTrue(sixteen.lossRelVar() * 4 < one.lossRelVar(), "loss variance should fall with K");
        // Denoising's gradient is biased away from the exact one; the unbiased estimator's mean is not.
        EstimatorError denoising = f.error("denoising", 24);
        System.out.printf("denoising: grad_rel_bias %.3g grad_rel_var %.3g; hutchinson-16 bias %.3g%n",
                denoising.gradRelBias(), denoising.gradRelVar(), sixteen.gradRelBias());
        assertTrue(denoising.gradRelBias() > 3 * sixteen.gradRelBias());
    }

    private static Row row(String method, int dim, double ms, double gradRelVar, double fisher) {
        return new Row(method, dim, 128, 3, 256, ms, 10, ms, ms, false, 1000, 0.1, -1, -1, gradRelVar, gradRelVar, 0, fisher, 100,
                List.of(new CurvePoint(0, 0, 10), new CurvePoint(1, 100, fisher)), "");
    }

    @Test
    void verdictIsComputedFromTheTable() {
        List<Row> rows = List.of(
                row("exact-row-space", 8, 2.0, 0, 0.5),
                row("hutchinson-1", 8, 1.0, 0.5, 0.4),
                row("hutchinson-4", 8, 4.0, 0.1, 0.6),
                row("denoising", 8, 0.5, 3.0, 0.9),
                row("exact-row-space", 64, 10.0, 0, 0.3),
                row("hutchinson-1", 64, 1.0, 20.0, 0.7),
                new Row("exact-per-dimension", 64, 128, 3, 256, Double.NaN, 0, Double.NaN, Double.NaN, false, 0, 0, -1, Double.NaN, Double.NaN,
                        Double.NaN, Double.NaN, Double.NaN, 0, List.of(), "one step took 9.0 s > 2.0 s"));
        String verdict = TraceBenchReport.verdict(rows);
        System.out.println(verdict);
        // D=8: 2/1 and 2/4; only hutchinson-1 (1 × 1.5 = 1.5 < 2) beats exact once variance counts.
        assertTrue(verdict.contains("- D=8: exact (row-space, 2.00 ms) costs 2.00× hutchinson-1 and 0.50× hutchinson-4 "
                + "(no dearer than Hutchinson with K = 4 probes); counting variance, 1 of 2 unbiased estimators still beats it: "
                + "hutchinson-1 (1.00 ms × 1.50); at equal wall-clock the lowest Fisher is hutchinson-1's (0.4000), "
                + "exact's best is 1.25× the best estimator's."), verdict);
        // D=64: hutchinson-1 is 10× cheaper but 1 × 21 = 21 > 10, so exact wins; the skipped row is ignored.
        TestTexts.assertContains(verdict,
                "- D=64: exact (row-space, 10.0 ms) costs 10.00× hutchinson-1 (dearer than the one "
                + "Hutchinson K measured); counting variance, exact wins against the one unbiased estimator, hutchinson-1;",
                "The exact trace costs more than one Hutchinson probe at D=8 and D=64; it is no dearer than "
                + "at least one Hutchinson K at D=8 and dearer than every K measured at D=64.",
                "exact wins against every unbiased estimator at D=64 and loses to at least one at D=8.",
                "an exact method reached the lowest Fisher divergence at D=64 and an estimator did at D=8.");
        assertTrue(!verdict.contains(" none") && !verdict.contains("all 1 ") && !verdict.contains("1 of 1"), verdict);
    }

    /** Every sentence of the verdict for no rows, rows without an exact one, one D, several. */
    @Test
    void verdictSentencesReadForNoneOneAndMany() {
        String empty = TraceBenchReport.verdict(List.of());
        System.out.println(empty);
        assertEquals("**Verdict.** No row was measured.\n", empty);

        String noExact = TraceBenchReport.verdict(List.of(row("hutchinson-1", 8, 1.0, 0.5, 0.4)));
        System.out.println(noExact);
        assertTrue(noExact.startsWith("**Verdict.** No exact row was measured, so there is nothing to compare.")
                && noExact.contains("- D=8: no exact row was measured, so there is nothing to compare."), noExact);

        // one D, exact alone: nothing to compare it with, said so rather than "at none"
        String alone = TraceBenchReport.verdict(List.of(row("exact-row-space", 8, 2.0, 0, 0.5)));
        System.out.println(alone);
        TestTexts.assertContains(alone,
                "No Gaussian Hutchinson row was measured beside an exact one, so their costs are not compared. "
                + "Counting each estimator's gradient variance",
                "there is nothing to weigh: no unbiased estimator's gradient variance was measured beside an exact row.",
                "Trained for the same wall-clock budget, an exact method reached the lowest Fisher divergence at D=8.",
                "- D=8: exact (row-space, 2.00 ms), with no Gaussian Hutchinson row measured to compare its cost with; "
                + "at equal wall-clock the lowest Fisher is exact-row-space's (0.5000).");

        // exact cheaper than one probe everywhere, beaten by none of both estimators, without hutchinson-1 at one D
        String cheap = TraceBenchReport.verdict(List.of(
                row("exact-row-space", 2, 0.5, 0, 0.3), row("hutchinson-1", 2, 1.0, 0.5, 0.4), row("hutchinson-4", 2, 2.0, 0.1, 0.6),
                row("exact-row-space", 8, 0.5, 0, 0.3), row("hutchinson-1", 8, 1.0, 0.5, 0.4), row("hutchinson-4", 8, 2.0, 0.1, 0.6),
                row("exact-row-space", 32, 0.5, 0, 0.3), row("hutchinson-4", 32, 2.0, 0.1, 0.6),
                row("sliced-1", 32, 0.6, 0.3, 0.6), row("hutch++-3", 32, 0.9, 0.3, 0.6)));
        System.out.println(cheap);
        TestTexts.assertContains(cheap,
                "The exact trace costs no more than one Hutchinson probe at D=2 and D=8; it is no dearer than "
                + "at least one Hutchinson K at D=2, D=8 and D=32.",
                "(no dearer than any Hutchinson K measured); counting variance, exact wins against both unbiased estimators;",
                "- D=32: exact (row-space, 0.50 ms) costs 0.25× hutchinson-4 (no dearer than the one Hutchinson K "
                + "measured); counting variance, exact wins against all 3 unbiased estimators;",
                "exact wins against every unbiased estimator at D=2, D=8 and D=32.",
                "an exact method reached the lowest Fisher divergence at D=2, D=8 and D=32.");

        // exact dearer everywhere, every estimator beats it, no hutchinson-1 anywhere
        String dear = TraceBenchReport.verdict(List.of(
                row("exact-row-space", 64, 10.0, 0, 0.9), row("hutchinson-4", 64, 1.0, 0.1, 0.5), row("hutchinson-8", 64, 2.0, 0.05, 0.6)));
        System.out.println(dear);
        TestTexts.assertContains(dear,
                "Beside Gaussian Hutchinson, the exact trace is dearer than every Hutchinson K measured at D=64. ",
                "costs 10.00× hutchinson-4 and 5.00× hutchinson-8 (dearer than every Hutchinson K measured); counting "
                + "variance, both unbiased estimators still beat it: hutchinson-4 (1.00 ms × 1.10) and hutchinson-8 (2.00 ms × 1.05);",
                "at least one unbiased estimator beats exact at D=64.",
                "an estimator, not an exact method, reached the lowest Fisher divergence at D=64.");
        String beatenByOne = TraceBenchReport.verdict(List.of(row("exact-row-space", 64, 10.0, 0, 0.9), row("sliced-1", 64, 1.0, 0.1, 0.5)));
        assertTrue(beatenByOne.contains("counting variance, the one unbiased estimator still beats it: sliced-1 (1.00 ms × 1.10)"), beatenByOne);
    }

    /** The report's closing line names the plots that are written, and counts read for one held-out point. */
    @Test
    void reportNamesThePlotsItWrites() throws IOException {
        List<Row> rows = List.of(row("exact-per-dimension", 8, 2.0, 0, 0.5), row("hutchinson-1", 8, 1.0, 0.5, 0.4));
        Path out = tmp.resolve("named");
        TraceBenchReport.write(out, settings(2, 1), rows, 10.0, "test machine");
        String md = Files.readString(out.resolve("report.md"));
        System.out.println(md);
        TestTexts.assertContains(md,
                "Plots: `time_vs_dim.png` (ms/step against D, log-log) and `fisher_vs_seconds_D8.png` (Fisher "
                + "against training seconds). Curves: `curves.csv`.",
                "same batch, 2 independent draws (draws keyed by step)",
                "on 1 held-out point.");
        for (String png : TraceBenchReport.plotNames(rows)) assertTrue(Files.isRegularFile(out.resolve(png)), png);
        assertTrue(!Files.exists(out.resolve("cost_ratio_vs_dim.png")));
        assertTrue(TraceBenchReport.markdown(settings(4, 100), List.of(), 10.0, "m").contains("No plots: no row was measured."));
    }

    private static TraceBench.Settings settings(int draws, int heldOut) {
        return new TraceBench.Settings(List.of(8), 16, 2, 32, List.of("exact-per-dimension", "hutchinson-1"), 0.5, draws, 0.1, 0.1,
                2.0, 0.1, 1e-3, 100, heldOut, 8, ebm.config.BackendKind.CPU, "fp64");
    }

    @Test
    void aRowFasterThanTheMeasuredGemmRateIsTimedAgainAndMarked() {
        // a limit of 0 GFLOP/s: no real time is below it, so every row is re-timed and marked; +∞ marks none
        TraceBench.Settings s = settings(2, 20).with(null, null, null, null, List.of("hutchinson-1"), 0.2, null);
        List<TraceBench.Row> flagged = TraceBench.run(s, 0.0, line -> {});
        List<TraceBench.Row> plain = TraceBench.run(s, Double.POSITIVE_INFINITY, line -> {});
        for (TraceBench.Row r : flagged) {
            System.out.printf("limit 0: %s D=%d median %.3f ms, fastest %.3f, slowest %.3f, marked %b%n", r.method(), r.dim(),
                    r.msPerStep(), r.msMin(), r.msMax(), r.exceedsLimit());
            assertTrue(r.exceedsLimit());
            assertTrue(r.msMin() <= r.msPerStep() && r.msPerStep() <= r.msMax());
        }
        for (TraceBench.Row r : plain) assertTrue(!r.exceedsLimit(), r.toString());
        String md = TraceBenchReport.markdown(s, flagged, 10.0, "m");
        TestTexts.assertContains(md, "fastest–slowest", "(above the measured GEMM rate: impossible)");
        String csv = TraceBenchReport.csv(flagged, s.backendLabel());
        assertTrue(csv.lines().findFirst().orElseThrow().endsWith(",ms_min,ms_max,exceeds_limit"));
        assertTrue(csv.lines().skip(1).allMatch(l -> l.endsWith(",true")), csv);
    }

    @Test
    void badOptionsAreOneLineErrors() {
        String[][] cases = {
                {"--backend", "cuda", "--precision", "fp16"}, {"--backend", "tpu"}, {"--precision", "fp32"}, {"--precision", "tf32"},
                {"--methods", "hutchinson-x"}, {"--methods", "hutchinson-0"}, {"--dims", "0"}, {"--budget", "0"},
                {"--batch", "-1"}};
        String[] expected = {"--precision fp16: backend cuda takes fp32, tf32, bf16", "allowed: cpu, cuda, cuda-emulated",
                "backend cpu takes fp64", "backend cpu takes fp64",
                "allowed: exact-per-dimension", "at least 1 probe", "--dims entries must be >= 1", "--budget must be > 0",
                "--batch must be >= 1"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[2 + cases[i].length];
            args[0] = "bench";
            args[1] = "trace";
            System.arraycopy(cases[i], 0, args, 2, cases[i].length);
            Cli r = Cli.run(args);
            assertEquals(2, r.exitCode());
            String err = r.err().strip();
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.startsWith("ebm: ") && err.contains(expected[i]), err);
        }
    }

    @Test
    void theCudaCodePathRunsTheSameRowsThroughItsHostBuild(@org.junit.jupiter.api.io.TempDir java.nio.file.Path out) throws java.io.IOException {
        org.junit.jupiter.api.Assumptions.assumeFalse(ebm.backend.cuda.runtime.HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
        // in TF32: the exact rows' loss check then holds the TF32 tolerance, and the label says which mode ran
        Cli r = Cli.run("bench", "trace", "--backend", "cuda-emulated", "--precision", "tf32", "--dims", "3,12", "--hidden", "8",
                "--layers", "2", "--batch", "16", "--methods", "exact-per-dimension,exact-row-space,hutchinson-2,denoising,hutch++-3",
                "--budget", "0.2", "--draws", "3", "--out", out.toString());
        for (String line : resultRows(r, out, 10)) {
            String[] f = line.split(",", -1);
            assertEquals("cuda-emulated-tf32", f[5], line);
            assertTrue(!f[6].isEmpty() && Double.parseDouble(f[6]) > 0, "ms per step measured: " + line);
            if (f[0].startsWith("exact")) assertEquals(0.0, Double.parseDouble(f[12]), line); // no draws, no spread
        }
    }

    @Test
    void aboveTheReferenceDimensionRowsAreTimingOnly(@org.junit.jupiter.api.io.TempDir java.nio.file.Path out) throws java.io.IOException {
        org.junit.jupiter.api.Assumptions.assumeFalse(ebm.backend.cuda.runtime.HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
        int large = TraceBench.REFERENCE_MAX_DIM + 1;
        Cli r = Cli.run("bench", "trace", "--backend", "cuda-emulated", "--dims", "3," + large, "--hidden", "4", "--layers", "1",
                "--batch", "4", "--methods", "exact-row-space,hutchinson-1", "--budget", "0.1", "--draws", "2",
                "--out", out.toString());
        for (String line : resultRows(r, out, 4)) {
            String[] f = line.split(",", -1);
            assertTrue(Double.parseDouble(f[6]) > 0 && Long.parseLong(f[8]) > 0, "time and memory measured: " + line);
            boolean timingOnly = Integer.parseInt(f[1]) == large;
            // columns 10..15: loss_exact .. fisher_at_budget; empty exactly on the timing-only rows
            for (int c = 10; c <= 15; c++) assertEquals(timingOnly, f[c].isEmpty(), "column " + c + ": " + line);
        }
        String report = java.nio.file.Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("**Timing only** at D=" + large), report);
    }

    @Test
    void aListOfWidthsRunsOneGridPerWidth(@org.junit.jupiter.api.io.TempDir java.nio.file.Path out) throws java.io.IOException {
        Cli r = Cli.run("bench", "trace", "--quick", "--dims", "2", "--hidden", "4,6", "--layers", "1", "--batch", "8",
                "--methods", "exact-row-space,hutchinson-1", "--budget", "0.1", "--draws", "2", "--out", out.toString());
        assertEquals(List.of("4", "4", "6", "6"), resultRows(r, out, 4).stream().map(l -> l.split(",")[2]).toList());
        for (String w : new String[] {"H4", "H6"}) {
            assertTrue(java.nio.file.Files.isRegularFile(out.resolve(w).resolve("report.md")), w);
            assertTrue(java.nio.file.Files.readString(out.resolve("report.md")).contains("(" + w + "/report.md)"));
        }
        assertEquals(2, Cli.run("bench", "trace", "--hidden", "8,0").exitCode());
    }

    /** The rows of a bench run's results.csv (printed), after checking that the run succeeded and wrote {@code rows} of them. */
    private static List<String> resultRows(Cli r, Path out, int rows) throws IOException {
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(out.resolve("results.csv"));
        lines.forEach(System.out::println);
        assertEquals(1 + rows, lines.size());
        return lines.subList(1, lines.size());
    }
}
