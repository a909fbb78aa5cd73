package ebm.bench;

import ebm.EbmException;
import ebm.Words;
import ebm.bench.TraceBench.CurvePoint;
import ebm.bench.TraceBench.Row;
import ebm.bench.TraceBench.Settings;
import ebm.config.BackendKind;
import ebm.plot.Charts;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * What `ebm bench trace` writes: results.csv, curves.csv, report.md (tables and a verdict computed from them) and the
 * plots. The verdict's rules are stated in the report itself.
 */
public final class TraceBenchReport {
    public static final String CSV_HEADER = "method,D,H,layers,batch,backend,ms_per_step,reps,peak_bytes,"
            + "gemm_gflop_per_step,loss_exact,loss_mean,loss_rel_var,grad_rel_var,grad_rel_bias,fisher_at_budget,"
            + "train_steps,skipped,ms_min,ms_max,exceeds_limit";

    private TraceBenchReport() {}

    public static void write(Path dir, Settings s, List<Row> rows, double gemmRate, String machine) {
        write(dir, s, rows, gemmRate, machine, List.of(), List.of());
    }

    /** With peers (read by {@link TracePeers#read} from peerFiles), report.md gains the side-by-side section. */
    public static void write(Path dir, Settings s, List<Row> rows, double gemmRate, String machine,
                             List<TracePeers.Peer> peers, List<Path> peerFiles) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("results.csv"), csv(rows, s.backendLabel()));
            Files.writeString(dir.resolve("curves.csv"), curvesCsv(rows));
            String md = markdown(s, rows, gemmRate, machine);
            if (!peerFiles.isEmpty()) md += "\n" + TracePeers.markdown(s, rows, peers, peerFiles, gemmRate);
            Files.writeString(dir.resolve("report.md"), md);
        } catch (IOException e) {
            throw new EbmException("cannot write to " + dir + ": " + e.getMessage());
        }
        plots(dir, rows, s.backendLabel());
    }

    /**
     * With several hidden widths: DIR/results.csv holds every width's rows (the H column tells them apart) and
     * DIR/report.md links each width's own report in DIR/H&lt;width&gt;/.
     */
    public static void writeCombined(Path dir, List<Settings> grids, List<Row> rows) {
        StringBuilder md = new StringBuilder("# Exact Hessian trace vs estimators (" + grids.getFirst().backendLabel()
                + "), several widths\n\nOne grid per hidden width, each with its tables, verdict and plots:\n\n");
        for (Settings s : grids) {
            md.append(String.format(Locale.ROOT, "- H = %d × %d: [H%d/report.md](H%d/report.md)%n", s.hidden(), s.layers(),
                    s.hidden(), s.hidden()));
        }
        md.append("\nEvery row of every width is in `results.csv` (column `H`).\n");
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("results.csv"), csv(rows, grids.getFirst().backendLabel()));
            Files.writeString(dir.resolve("report.md"), md.toString());
        } catch (IOException e) {
            throw new EbmException("cannot write to " + dir + ": " + e.getMessage());
        }
    }

    private static String num(double v, String format) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "";
    }

    public static String csv(List<Row> rows, String backendLabel) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (Row r : rows) {
            sb.append(String.join(",", r.method(), Integer.toString(r.dim()), Integer.toString(r.hidden()),
                    Integer.toString(r.layers()), Integer.toString(r.batch()), backendLabel, num(r.msPerStep(), "%.4f"),
                    Integer.toString(r.reps()), r.peakBytes() < 0 ? "" : Long.toString(r.peakBytes()),
                    num(r.gflopPerStep(), "%.5f"), num(r.lossExact(), "%.10g"), num(r.lossMean(), "%.10g"),
                    num(r.lossRelVar(), "%.5g"), num(r.gradRelVar(), "%.5g"), num(r.gradRelBias(), "%.5g"),
                    num(r.fisherAtBudget(), "%.6g"), Long.toString(r.trainSteps()),
                    r.skipped().replace(',', ';'), num(r.msMin(), "%.4f"), num(r.msMax(), "%.4f"),
                    Boolean.toString(r.exceedsLimit()))).append('\n');
        }
        return sb.toString();
    }

    public static String curvesCsv(List<Row> rows) {
        StringBuilder sb = new StringBuilder("method,D,seconds,steps,fisher\n");
        for (Row r : rows) {
            for (CurvePoint p : r.curve()) {
                sb.append(String.format(Locale.ROOT, "%s,%d,%.4f,%d,%.6g%n", r.method(), r.dim(), p.seconds(), p.steps(),
                        p.fisher()));
            }
        }
        return sb.toString();
    }

    /** Cost-vs-variance figure of merit: ms × (1 + grad_rel_var); exact rows have no probe variance. */
    public static double varianceAdjustedMs(Row r) {
        return r.msPerStep() * (1 + r.gradRelVar());
    }

    private static Map<Integer, List<Row>> byDim(List<Row> rows) {
        return rows.stream().collect(Collectors.groupingBy(Row::dim, TreeMap::new, Collectors.toList()));
    }

    /** The cheaper measured exact row at one D (the exact method a user would run). */
    static Optional<Row> cheapestExact(List<Row> atDim) {
        return atDim.stream().filter(r -> r.exact() && r.measured()).min(Comparator.comparingDouble(Row::msPerStep));
    }

    private static Optional<Row> find(List<Row> atDim, String method) {
        return atDim.stream().filter(r -> r.method().equals(method) && r.measured()).findFirst();
    }

    /** Gaussian Hutchinson rows at one D by probe count, ascending. */
    private static Map<Integer, Row> hutchinsonByProbes(List<Row> atDim) {
        Map<Integer, Row> out = new TreeMap<>();
        for (Row r : atDim) {
            if (r.measured() && r.method().matches("hutchinson-\\d+")) {
                out.put(Integer.parseInt(r.method().substring("hutchinson-".length())), r);
            }
        }
        return out;
    }

    private static String exactLabel(Row r) {
        return "exact (" + r.method().substring("exact-".length()) + ", " + fmt(r.msPerStep()) + " ms)";
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, ms < 10 ? "%.2f" : "%.1f", ms);
    }

    /** "D=2", "D=2 and D=8", "D=2, D=8 and D=32". */
    static String dims(List<Integer> ds) {
        return Words.and(ds.stream().map(d -> "D=" + d).toList());
    }

    private static List<Integer> minus(List<Integer> all, List<Integer> some) {
        return all.stream().filter(d -> !some.contains(d)).toList();
    }

    /**
     * Over the dims `all` (not empty), of which `yesDims` have the property: "{yes} at A" when all do, "{no} at B" when
     * none do, else "{yes} at A and {noAfterYes} at B".
     */
    private static String split(String yes, List<Integer> yesDims, String no, String noAfterYes, List<Integer> all) {
        List<Integer> noDims = minus(all, yesDims);
        if (noDims.isEmpty()) return yes + " at " + dims(yesDims);
        if (yesDims.isEmpty()) return no + " at " + dims(noDims);
        return yes + " at " + dims(yesDims) + " and " + noAfterYes + " at " + dims(noDims);
    }

    /** "K = 4", "K = 4 and 16". */
    private static String probeCounts(List<Integer> ks) {
        return "K = " + Words.and(ks.stream().map(String::valueOf).toList());
    }

    /**
     * The verdict, computed from the table: per D the cheaper exact algorithm's cost relative to Hutchinson with K
     * Gaussian probes, which unbiased estimators beat it once their gradient variance is counted
     * (ms × (1 + grad_rel_var) &lt; exact ms), and which method reached the lowest Fisher at equal budget; then a
     * headline across D. Each sentence reads for none, one or many of what it counts.
     */
    public static String verdict(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        List<Integer> exactBelowH1 = new ArrayList<>(), h1Dims = new ArrayList<>(), hutchDims = new ArrayList<>(),
                cheaperSomeK = new ArrayList<>(), unbiasedDims = new ArrayList<>(), exactWinsAdjusted = new ArrayList<>(),
                fisherDims = new ArrayList<>(), exactBestFisher = new ArrayList<>(), measuredDims = new ArrayList<>();
        for (Map.Entry<Integer, List<Row>> e : byDim(rows).entrySet()) {
            int d = e.getKey();
            List<Row> atDim = e.getValue();
            Optional<Row> exact = cheapestExact(atDim);
            if (exact.isEmpty()) {
                sb.append("- D=").append(d).append(": no exact row was measured, so there is nothing to compare.\n");
                continue;
            }
            measuredDims.add(d);
            Row ex = exact.get();
            sb.append("- D=").append(d).append(": ").append(exactLabel(ex));
            Map<Integer, Row> hutch = hutchinsonByProbes(atDim);
            if (hutch.isEmpty()) {
                sb.append(", with no Gaussian Hutchinson row measured to compare its cost with");
            } else {
                hutchDims.add(d);
                sb.append(" costs ").append(Words.and(hutch.entrySet().stream()
                        .map(h -> String.format(Locale.ROOT, "%.2f× hutchinson-%d", ex.msPerStep() / h.getValue().msPerStep(), h.getKey()))
                        .toList()));
                List<Integer> cheaper = hutch.entrySet().stream().filter(h -> ex.msPerStep() <= h.getValue().msPerStep())
                        .map(Map.Entry::getKey).toList();
                if (hutch.size() == 1) sb.append(cheaper.isEmpty() ? " (dearer than the one Hutchinson K measured)"
                        : " (no dearer than the one Hutchinson K measured)");
                else if (cheaper.isEmpty()) sb.append(" (dearer than every Hutchinson K measured)");
                else if (cheaper.size() == hutch.size()) sb.append(" (no dearer than any Hutchinson K measured)");
                else sb.append(" (no dearer than Hutchinson with ").append(probeCounts(cheaper)).append(" probes)");
                if (!cheaper.isEmpty()) cheaperSomeK.add(d);
                if (hutch.containsKey(1)) {
                    h1Dims.add(d);
                    if (ex.msPerStep() <= hutch.get(1).msPerStep()) exactBelowH1.add(d);
                }
            }
            List<Row> unbiased = atDim.stream().filter(r -> r.measured() && !r.exact() && !TraceBench.isDenoising(r.method())
                    && Double.isFinite(r.gradRelVar())).toList();
            List<String> beatExact = unbiased.stream().filter(r -> varianceAdjustedMs(r) < ex.msPerStep())
                    .map(r -> String.format(Locale.ROOT, "%s (%s ms × %.2f)", r.method(), fmt(r.msPerStep()), 1 + r.gradRelVar()))
                    .toList();
            if (!unbiased.isEmpty()) {
                unbiasedDims.add(d);
                int n = unbiased.size(), k = beatExact.size();
                sb.append("; counting variance, ");
                if (k == 0) {
                    sb.append(n == 1 ? "exact wins against the one unbiased estimator, " + unbiased.getFirst().method()
                            : n == 2 ? "exact wins against both unbiased estimators"
                            : "exact wins against all " + n + " unbiased estimators");
                    exactWinsAdjusted.add(d);
                } else {
                    sb.append(n == 1 ? "the one unbiased estimator still beats it"
                            : k == n ? (n == 2 ? "both unbiased estimators" : "all " + n + " unbiased estimators") + " still beat it"
                            : k + " of " + n + " unbiased estimators still " + (k == 1 ? "beats" : "beat") + " it")
                            .append(": ").append(Words.and(beatExact));
                }
            }
            Optional<Row> best = atDim.stream().filter(r -> r.measured() && Double.isFinite(r.fisherAtBudget()))
                    .min(Comparator.comparingDouble(Row::fisherAtBudget));
            Optional<Row> bestEstimator = atDim.stream().filter(r -> r.measured() && !r.exact()
                    && Double.isFinite(r.fisherAtBudget())).min(Comparator.comparingDouble(Row::fisherAtBudget));
            Optional<Row> bestExact = atDim.stream().filter(r -> r.measured() && r.exact()
                    && Double.isFinite(r.fisherAtBudget())).min(Comparator.comparingDouble(Row::fisherAtBudget));
            if (best.isPresent()) {
                fisherDims.add(d);
                sb.append(String.format(Locale.ROOT, "; at equal wall-clock the lowest Fisher is %s's (%.4g)",
                        best.get().method(), best.get().fisherAtBudget()));
                if (bestExact.isPresent() && bestEstimator.isPresent()) {
                    sb.append(String.format(Locale.ROOT, ", exact's best is %.2f× the best estimator's",
                            bestExact.get().fisherAtBudget() / bestEstimator.get().fisherAtBudget()));
                }
                if (best.get().exact()) exactBestFisher.add(d);
            }
            sb.append(".\n");
        }
        StringBuilder head = new StringBuilder("**Verdict.** ");
        if (measuredDims.isEmpty()) {
            return head.append(rows.isEmpty() ? "No row was measured.\n" : "No exact row was measured, so there is nothing to compare.\n\n")
                    .append(sb).toString();
        }
        // Cost: against one probe where hutchinson-1 ran, against some K where any Hutchinson row ran.
        if (hutchDims.isEmpty()) {
            head.append("No Gaussian Hutchinson row was measured beside an exact one, so their costs are not compared. ");
        } else {
            String someK = split("is no dearer than at least one Hutchinson K", cheaperSomeK,
                    "is dearer than every Hutchinson K measured", "dearer than every K measured", hutchDims);
            if (h1Dims.isEmpty()) head.append("Beside Gaussian Hutchinson, the exact trace ").append(someK);
            else head.append("The exact trace ").append(split("costs no more than one Hutchinson probe", exactBelowH1,
                    "costs more than one Hutchinson probe", "more than one", h1Dims)).append("; it ").append(someK);
            head.append(". ");
        }
        // Variance: where unbiased estimators with a measured gradient variance ran.
        head.append("Counting each estimator's gradient variance (rule: an unbiased estimator beats exact per unit of compute "
                + "when ms × (1 + grad_rel_var) < exact's ms), ");
        if (unbiasedDims.isEmpty()) head.append("there is nothing to weigh: no unbiased estimator's gradient variance was measured beside an exact row");
        else head.append(split("exact wins against every unbiased estimator", exactWinsAdjusted,
                "at least one unbiased estimator beats exact", "loses to at least one", unbiasedDims));
        head.append(". ");
        // Quality: where some method's Fisher at the budget was measured.
        if (fisherDims.isEmpty()) head.append("No Fisher divergence after the training budget was measured.");
        else head.append("Trained for the same wall-clock budget, ").append(split("an exact method reached the lowest Fisher divergence",
                exactBestFisher, "an estimator, not an exact method, reached the lowest Fisher divergence", "an estimator did",
                fisherDims)).append('.');
        return head.append("\n\n").append(sb).toString();
    }

    public static String markdown(Settings s, List<Row> rows, double gemmRate, String machine) {
        StringBuilder sb = new StringBuilder("# Exact Hessian trace vs estimators (" + s.backendLabel() + ")\n\n");
        sb.append(String.format(Locale.ROOT, "Softplus MLP H=%d×%d, batch B=%d, AdamW (lr %.0e), mixture data (8 components, "
                        + "condition 10, mean scale 2). GEMM rate (%s, measured in this run): %.1f GFLOP/s.%n%n",
                s.hidden(), s.layers(), s.batch(), s.lr(), machine, gemmRate));
        sb.append(String.format(Locale.ROOT, "- **Cost**: one step = loss + parameter gradient + AdamW; median of up to 30 "
                + "repetitions after %.1f s of warm-up. %s `share` = the step's GEMM FLOPs per second over the GEMM rate "
                + "above.%n", s.warmupSeconds(), s.backend() == BackendKind.CPU
                        ? "`memory MB` (`peak_bytes`) = tape bytes per step on the CPU (values and adjoints the step "
                                + "allocates, from Tape.bytesAllocated() deltas)."
                        : "`memory MB` (`peak_bytes`) = device memory the step holds (parameters, gradients, optimizer "
                                + "state and the step's arena at its peak)."));
        sb.append(String.format(Locale.ROOT, "- **Error** at the seeded initial parameters, same batch, %s "
                + "(draws keyed by step): loss_rel_var = Var(loss)/loss_exact², grad_rel_var = mean‖g − g_exact‖²/‖g_exact‖² "
                + "(for denoising, σ=%s, mean‖g − ḡ‖²/‖g_exact‖²), grad_rel_bias = ‖ḡ − g_exact‖/‖g_exact‖ (for the "
                + "unbiased estimators this is sampling noise of order √(grad_rel_var/R)).%n", Words.count(s.errorDraws(), "independent draw"),
                s.sigma()));
        sb.append(String.format(Locale.ROOT, "- **Quality per second**: AdamW from the same init for %.1f s of training "
                + "(evaluation off the clock), true Fisher divergence ½E‖s_θ − s*‖² on %s. Denoising "
                + "learns the noised density, so its Fisher to the clean truth has a floor.%n%n", s.budgetSeconds(),
                Words.count(s.heldOutPoints(), "held-out point")));
        List<Row> timingRows = rows.stream().filter(r -> r.measured() && r.dim() > TraceBench.REFERENCE_MAX_DIM).toList();
        List<Integer> timingOnly = timingRows.stream().map(Row::dim).distinct().sorted().toList();
        if (!timingOnly.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "- **Timing only** at %s (D > %d): no dense mixture and no fp64 reference "
                    + "at %s, so %s cost and memory but no error and no Fisher; the batch is standard normal and stays on the "
                    + "device between timed steps.%n%n", dims(timingOnly), TraceBench.REFERENCE_MAX_DIM,
                    timingOnly.size() == 1 ? "that size" : "those sizes", timingRows.size() == 1 ? "its row has" : "their rows have"));
        }
        sb.append(verdict(rows)).append('\n');

        sb.append("## Cost per training step\n\nms/step is the median of the row's timed steps, beside its fastest and "
                + "slowest; a row whose GFLOP/s stayed above the GEMM rate measured in this run after a second timing is "
                + "marked: that time is a measuring error, not a result.\n\n| D | method | ms/step | fastest–slowest "
                + "| vs exact-row-space | GEMM GFLOP/step | GFLOP/s | share | memory MB |\n|---|---|---|---|---|---|---|---|---|\n");
        Map<Integer, List<Row>> byDim = byDim(rows);
        for (List<Row> atDim : byDim.values()) {
            Optional<Row> rowSpace = find(atDim, "exact-row-space");
            for (Row r : atDim) {
                if (!r.measured()) continue;
                double gflops = r.gflopPerStep() / (r.msPerStep() / 1000);
                sb.append(String.format(Locale.ROOT, "| %d | %s | %s | %s–%s | %s | %.3f | %.1f | %.0f%%%s | %.1f |%n", r.dim(),
                        r.method(), fmt(r.msPerStep()), fmt(r.msMin()), fmt(r.msMax()), rowSpace.map(x -> String.format(Locale.ROOT, "%.2f×", r.msPerStep() / x.msPerStep())).orElse("—"),
                        r.gflopPerStep(), gflops, 100 * gflops / gemmRate,
                        r.exceedsLimit() ? " (above the measured GEMM rate: impossible)" : "", r.peakBytes() / 1e6));
            }
        }
        sb.append("\n## Estimator error against the exact objective\n\n| D | method | loss_rel_var | grad_rel_var | grad_rel_bias "
                + "| ms × (1 + grad_rel_var) |\n|---|---|---|---|---|---|\n");
        for (List<Row> atDim : byDim.values()) {
            for (Row r : atDim) {
                if (!r.measured() || !Double.isFinite(r.lossRelVar())) continue;
                sb.append(String.format(Locale.ROOT, "| %d | %s | %.3g | %.3g | %.3g | %s |%n", r.dim(), r.method(),
                        r.lossRelVar(), r.gradRelVar(), r.gradRelBias(), fmt(varianceAdjustedMs(r))));
            }
        }
        sb.append(String.format(Locale.ROOT, "%n## Fisher divergence after %.1f s of training%n%n| D | method | steps | "
                + "Fisher at init | Fisher at budget |%n|---|---|---|---|---|%n", s.budgetSeconds()));
        for (List<Row> atDim : byDim.values()) {
            for (Row r : atDim) {
                if (!r.measured() || r.curve().isEmpty()) continue;
                double init = r.curve().isEmpty() ? Double.NaN : r.curve().getFirst().fisher();
                sb.append(String.format(Locale.ROOT, "| %d | %s | %d | %.4g | %.4g |%n", r.dim(), r.method(), r.trainSteps(),
                        init, r.fisherAtBudget()));
            }
        }
        List<Row> skipped = rows.stream().filter(r -> !r.measured()).toList();
        if (!skipped.isEmpty()) {
            sb.append("\n## Skipped\n\n");
            for (Row r : skipped) sb.append("- D=").append(r.dim()).append(' ').append(r.method()).append(": ").append(r.skipped()).append('\n');
        }
        List<String> plots = plotNames(rows);
        if (plots.isEmpty()) {
            sb.append("\nNo plots: no row was measured.\n");
        } else {
            List<String> described = new ArrayList<>();
            for (String p : plots) {
                described.add("`" + p + "` (" + (p.equals("time_vs_dim.png") ? "ms/step against D, log-log"
                        : p.equals("cost_ratio_vs_dim.png") ? "each method's ms/step over exact-row-space's"
                        : "Fisher against training seconds") + ")");
            }
            sb.append("\nPlots: ").append(Words.and(described)).append(". Curves: `curves.csv`.\n");
        }
        return sb.toString();
    }

    /** The plot files {@link #plots} writes for these rows, in that order. */
    static List<String> plotNames(List<Row> rows) {
        Map<String, List<Row>> byMethod = byMethod(rows);
        List<String> names = new ArrayList<>();
        if (byMethod.isEmpty()) return names;
        names.add("time_vs_dim.png");
        if (byMethod.containsKey("exact-row-space")) names.add("cost_ratio_vs_dim.png");
        for (Map.Entry<Integer, List<Row>> e : byDim(rows).entrySet()) {
            if (e.getValue().stream().anyMatch(r -> r.curve().stream().anyMatch(p -> Double.isFinite(p.fisher()) && p.fisher() > 0))) {
                names.add("fisher_vs_seconds_D" + e.getKey() + ".png");
            }
        }
        return names;
    }

    private static XYChart chart(String title, String x, String y, boolean logX, boolean logY) {
        XYChart c = Charts.chart(900, 600, title, x, y, Styler.LegendPosition.OutsideE, 6);
        c.getStyler().setXAxisLogarithmic(logX);
        c.getStyler().setYAxisLogarithmic(logY);
        return c;
    }

    private static void save(XYChart c, Path file) {
        Charts.savePng(c, file);
    }

    private static Map<String, List<Row>> byMethod(List<Row> rows) {
        Map<String, List<Row>> out = new LinkedHashMap<>();
        for (Row r : rows) if (r.measured()) out.computeIfAbsent(r.method(), k -> new ArrayList<>()).add(r);
        return out;
    }

    static void plots(Path dir, List<Row> rows, String backendLabel) {
        Map<String, List<Row>> byMethod = byMethod(rows);
        if (byMethod.isEmpty()) return;
        XYChart time = chart("Training step time vs D (" + backendLabel + ")", "D (log)", "ms per step (log)", true, true);
        for (Map.Entry<String, List<Row>> e : byMethod.entrySet()) {
            time.addSeries(e.getKey(), e.getValue().stream().mapToDouble(Row::dim).toArray(),
                    e.getValue().stream().mapToDouble(Row::msPerStep).toArray()).setMarker(SeriesMarkers.CIRCLE);
        }
        save(time, dir.resolve("time_vs_dim.png"));

        Map<Integer, Double> rowSpaceMs = new TreeMap<>();
        for (Row r : byMethod.getOrDefault("exact-row-space", List.of())) rowSpaceMs.put(r.dim(), r.msPerStep());
        if (!rowSpaceMs.isEmpty()) {
            XYChart ratio = chart("Cost relative to exact-row-space (below 1: cheaper than exact)", "D (log)",
                    "ms/step ÷ exact-row-space ms/step (log)", true, true);
            for (Map.Entry<String, List<Row>> e : byMethod.entrySet()) {
                if (e.getKey().equals("exact-row-space")) continue;
                List<Row> with = e.getValue().stream().filter(r -> rowSpaceMs.containsKey(r.dim())).toList();
                if (with.isEmpty()) continue;
                ratio.addSeries(e.getKey(), with.stream().mapToDouble(Row::dim).toArray(),
                        with.stream().mapToDouble(r -> r.msPerStep() / rowSpaceMs.get(r.dim())).toArray())
                        .setMarker(SeriesMarkers.CIRCLE);
            }
            double[] ds = rowSpaceMs.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
            if (ds.length > 0) {
                ratio.addSeries("parity", new double[] {ds[0], ds[ds.length - 1]}, new double[] {1, 1})
                        .setMarker(SeriesMarkers.NONE).setLineColor(Color.BLACK);
            }
            save(ratio, dir.resolve("cost_ratio_vs_dim.png"));
        }

        for (Map.Entry<Integer, List<Row>> e : byDim(rows).entrySet()) {
            XYChart fisher = chart("True Fisher divergence vs training seconds, D=" + e.getKey(), "seconds of training",
                    "Fisher divergence (held-out, log)", false, true);
            int series = 0;
            for (Row r : e.getValue()) {
                List<CurvePoint> pts = r.curve().stream().filter(p -> Double.isFinite(p.fisher()) && p.fisher() > 0).toList();
                if (pts.isEmpty()) continue;
                fisher.addSeries(r.method(), pts.stream().mapToDouble(CurvePoint::seconds).toArray(),
                        pts.stream().mapToDouble(CurvePoint::fisher).toArray()).setMarker(SeriesMarkers.CIRCLE);
                series++;
            }
            if (series > 0) save(fisher, dir.resolve("fisher_vs_seconds_D" + e.getKey() + ".png"));
        }
    }
}
