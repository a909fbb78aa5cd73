package ebm.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import ebm.EbmException;
import ebm.Words;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.train.RunLock;
import ebm.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * DIR/results.csv, DIR/report.md and DIR/plots/*.png, rebuilt from whatever run folders DIR/runs holds (so shards
 * that ran into one folder, or were copied together, give one report).
 * <p>
 * Grouping: the `objective` of a run is its objective.* grid values (else its objective.name); its `optimizer` is
 * its variant plus any other grid values except seed and optimizer.lr (else its optimizer.name); seeds are
 * replicates and optimizer.lr is the rate tuned per objective × optimizer.
 * Quality is the final true Fisher divergence where the density is known, else the held-out exact SM loss (which
 * differs from the Fisher divergence by a constant of the data, so it ranks the same way).
 * Threshold: per objective, best = the lowest quality any finished run reached at any eval step;
 * threshold = best + |best| (2× best for a Fisher divergence); a run's steps and seconds to the threshold are those
 * of its first eval step at or below it.
 */
public final class SweepReport {
    private SweepReport() {}

    static final String FISHER = "fisher_divergence";
    static final String NOISED = "fisher_divergence_noised";
    static final String VAL = "val_loss";

    record Eval(long step, double seconds, Double fisher, Double noised, Double val) {
        Double metric(String name) {
            return name.equals(FISHER) ? fisher : val;
        }
    }

    /** One run folder, read back. */
    record Run(int index, String name, Map<String, JsonNode> values, RunConfig config, String objective, String optimizer,
               double lr, RunFolder.Status status, String message, long stepsDone, List<Eval> evals, Double wallSeconds,
               boolean sharedCpu, Map<String, Double> diagnostics) {
        Double last(java.util.function.Function<Eval, Double> f) {
            if (evals.isEmpty() || status == RunFolder.Status.DIVERGED) return null;
            return f.apply(evals.getLast());
        }

        Double best(java.util.function.Function<Eval, Double> f) {
            Double best = null;
            for (Eval e : evals) {
                Double v = f.apply(e);
                if (v != null && Double.isFinite(v) && (best == null || v < best)) best = v;
            }
            return best;
        }

        boolean finished() {
            return status.done();
        }
    }

    /** Per objective: which metric is the quality and where the threshold lies. */
    record ObjectiveScale(String metric, Double best, Double threshold) {}

    /** The runs of one objective × optimizer at one learning rate (its seeds). */
    record RateStats(double lr, List<Run> runs, int finished, int diverged, Double mean, Double sd) {
        boolean complete() {
            return !runs.isEmpty() && finished == runs.size();
        }
    }

    record Arm(String objective, String optimizer, List<RateStats> rates, RateStats best) {}

    /** Everything the report shows. */
    record Contents(List<Run> runs, Map<String, ObjectiveScale> scales, List<Arm> arms, List<String> skippedFolders) {}

    public static void write(Path dir, PrintStream out) {
        if (!Files.isDirectory(dir.resolve(RunFolder.RUNS))) read(dir); // says it is not a sweep folder, before any lock file
        // Shards sharing DIR write the report in turn, under a short lock of its own (never a run folder's).
        try (RunLock lock = RunLock.waitFor(dir.resolve(REPORT_LOCK), "writing the sweep report")) {
            writeUnlocked(dir, out);
        }
    }

    /** The lock file shards take in turn to write the report. */
    static final String REPORT_LOCK = "report.lock";

    private static void writeUnlocked(Path dir, PrintStream out) {
        Contents c = read(dir);
        try {
            RunFolder.writeAtomically(dir.resolve("results.csv"), csv(c).getBytes(StandardCharsets.UTF_8));
            List<String> plots = SweepPlots.write(c, dir.resolve("plots"));
            RunFolder.writeAtomically(dir.resolve("report.md"), markdown(c, plots).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new EbmException("cannot write the report into " + dir + ": " + e.getMessage());
        }
        long finished = c.runs().stream().filter(Run::finished).count();
        out.printf("report: %s (%d finished) -> %s, %s, %s%n", Words.count(c.runs().size(), "run"), finished, dir.resolve("results.csv"),
                dir.resolve("report.md"), dir.resolve("plots"));
    }

    static Contents read(Path dir) {
        Path runsDir = dir.resolve(RunFolder.RUNS);
        if (!Files.isDirectory(runsDir)) {
            throw new EbmException(dir + " has no runs/ folder: not a sweep folder (ebm sweep SWEEP.yaml --out " + dir + " makes one)");
        }
        List<Path> folders;
        try (Stream<Path> s = Files.list(runsDir)) {
            folders = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new EbmException("cannot list " + runsDir + ": " + e.getMessage());
        }
        List<Run> runs = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Path f : folders) {
            RunFolder.PointRecord point = RunFolder.readPoint(f);
            if (point == null || !Files.exists(f.resolve(Trainer.CONFIG))) {
                skipped.add(f.getFileName() + (point == null ? " (no " + RunFolder.POINT_FILE + ")" : " (not started)"));
                continue;
            }
            if (RunLock.heldElsewhere(f)) {
                // Another process trains it now: what it has written so far may be mid-write, so read it carefully.
                try {
                    runs.add(readRun(f, point));
                } catch (EbmException e) {
                    skipped.add(f.getFileName() + " (held by another process, not readable yet)");
                }
            } else {
                runs.add(readRun(f, point));
            }
        }
        runs.sort(Comparator.comparingInt(Run::index).thenComparing(Run::name));

        Map<String, ObjectiveScale> scales = new LinkedHashMap<>();
        for (String objective : runs.stream().map(Run::objective).distinct().toList()) {
            List<Run> of = runs.stream().filter(r -> r.objective().equals(objective)).toList();
            boolean fisherKnown = of.stream().filter(r -> !r.evals().isEmpty()).allMatch(r -> r.best(Eval::fisher) != null);
            String metric = fisherKnown ? FISHER : VAL;
            Double best = null;
            for (Run r : of) {
                Double b = r.finished() ? r.best(e -> e.metric(metric)) : null;
                if (b != null && (best == null || b < best)) best = b;
            }
            scales.put(objective, new ObjectiveScale(metric, best, best == null ? null : best + Math.abs(best)));
        }

        List<Arm> arms = new ArrayList<>();
        Map<String, Map<String, List<Run>>> grouped = new LinkedHashMap<>();
        for (Run r : runs) grouped.computeIfAbsent(r.objective(), k -> new LinkedHashMap<>()).computeIfAbsent(r.optimizer(), k -> new ArrayList<>()).add(r);
        for (var byObjective : grouped.entrySet()) {
            String metric = scales.get(byObjective.getKey()).metric();
            for (var byOptimizer : byObjective.getValue().entrySet()) {
                TreeMap<Double, List<Run>> byRate = new TreeMap<>();
                for (Run r : byOptimizer.getValue()) byRate.computeIfAbsent(r.lr(), k -> new ArrayList<>()).add(r);
                List<RateStats> rates = new ArrayList<>();
                RateStats best = null;
                for (var e : byRate.entrySet()) {
                    RateStats s = stats(e.getKey(), e.getValue(), metric);
                    rates.add(s);
                    if (s.complete() && s.mean() != null && (best == null || s.mean() < best.mean())) best = s;
                }
                arms.add(new Arm(byObjective.getKey(), byOptimizer.getKey(), rates, best));
            }
        }
        return new Contents(runs, scales, arms, skipped);
    }

    private static RateStats stats(double lr, List<Run> runs, String metric) {
        List<Double> q = new ArrayList<>();
        int finished = 0, diverged = 0;
        for (Run r : runs) {
            if (r.status() == RunFolder.Status.DIVERGED) diverged++;
            if (!r.finished()) continue;
            finished++;
            Double v = r.last(e -> e.metric(metric));
            if (v != null) q.add(v);
        }
        return new RateStats(lr, runs, finished, diverged, mean(q), sd(q));
    }

    /**
     * The per-step diagnostics (RQ2) the report summarises: each is averaged over a run's logged steps, except
     * shampoo_root_failures, which is a running count (its last value is kept).
     */
    static final List<String> DIAGNOSTICS = List.of("grad_norm", "grad_noise", "update_norm", "update_cosine",
            "adam_v_spread", "muon_orthogonality_error", "shampoo_cond_left_max", "shampoo_cond_right_max",
            "shampoo_root_failures");

    private static Run readRun(Path folder, RunFolder.PointRecord point) {
        RunConfig config = ConfigLoader.load(folder.resolve(Trainer.CONFIG), List.of());
        List<Eval> evals = new ArrayList<>();
        long stepsDone = 0;
        Double wall = null;
        Map<String, double[]> sums = new java.util.LinkedHashMap<>(); // key -> {sum, count, last}
        for (Map<String, Object> rec : RunFolder.metrics(folder)) {
            for (String k : DIAGNOSTICS) {
                if (rec.get(k) instanceof Number n && Double.isFinite(n.doubleValue())) {
                    double[] acc = sums.computeIfAbsent(k, x -> new double[3]);
                    acc[0] += n.doubleValue();
                    acc[1]++;
                    acc[2] = n.doubleValue();
                }
            }
            long step = ((Number) rec.get("step")).longValue();
            double seconds = rec.get("seconds") instanceof Number n ? n.doubleValue() : Double.NaN;
            stepsDone = step;
            wall = seconds;
            if (rec.containsKey(VAL)) evals.add(new Eval(step, seconds, num(rec.get(FISHER)), num(rec.get(NOISED)), num(rec.get(VAL))));
        }
        RunFolder.Status status = RunFolder.status(folder, point, config.train().steps());
        if ((status == RunFolder.Status.UNFINISHED || status == RunFolder.Status.FAILED || status == RunFolder.Status.NOT_STARTED)
                && RunLock.heldElsewhere(folder)) {
            status = RunFolder.Status.RUNNING; // a shard sharing the folder trains it now: not failed, not this report's to retry
        }
        return new Run(point.index(), folder.getFileName().toString(), point.values(), config, objectiveLabel(point.values(), config),
                optimizerLabel(point.values(), config), config.optimizer().lr(), status,
                status == RunFolder.Status.DIVERGED || status == RunFolder.Status.FAILED ? point.message() : null, stepsDone, evals,
                wall, point.sharedCpu(), diagnostics(sums));
    }

    private static Map<String, Double> diagnostics(Map<String, double[]> sums) {
        Map<String, Double> d = new java.util.LinkedHashMap<>();
        sums.forEach((k, acc) -> d.put(k, k.equals("shampoo_root_failures") ? acc[2] : acc[0] / acc[1]));
        return d;
    }

    private static Double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : null;
    }

    static String objectiveLabel(Map<String, JsonNode> values, RunConfig config) {
        List<String> parts = new ArrayList<>();
        if (!values.containsKey("objective.name")) parts.add(config.objective().name());
        for (var e : values.entrySet()) {
            if (e.getKey().equals("objective.name")) parts.add(e.getValue().asText());
            else if (e.getKey().startsWith("objective.")) parts.add(segment(e.getKey()) + "=" + SweepSpec.format(e.getValue()));
        }
        return String.join(" ", parts);
    }

    static String optimizerLabel(Map<String, JsonNode> values, RunConfig config) {
        List<String> parts = new ArrayList<>();
        for (var e : values.entrySet()) {
            String k = e.getKey();
            if (k.equals("seed") || k.equals("optimizer.lr") || k.startsWith("objective.")) continue;
            if (k.equals(SweepSpec.VARIANT) || k.equals("optimizer.name")) parts.add(e.getValue().asText());
            else parts.add(segment(k) + "=" + SweepSpec.format(e.getValue()));
        }
        if (parts.isEmpty()) parts.add(config.optimizer().name());
        return String.join(" ", parts);
    }

    private static String segment(String key) {
        return key.substring(key.lastIndexOf('.') + 1);
    }

    /** Steps and seconds at the run's first eval at or below its objective's threshold, or null. */
    static Eval firstBelow(Run r, ObjectiveScale scale) {
        if (scale.threshold() == null) return null;
        for (Eval e : r.evals()) {
            Double v = e.metric(scale.metric());
            if (v != null && v <= scale.threshold()) return e;
        }
        return null;
    }

    // ---- results.csv ----

    static final List<String> TIMING_COLUMNS = List.of("seconds_to_threshold", "wall_seconds", "shared_cpu");

    static String csv(Contents c) {
        Set<String> keys = new LinkedHashSet<>();
        for (Run r : c.runs()) keys.addAll(r.values().keySet());
        List<String> header = new ArrayList<>(List.of("index", "name"));
        header.addAll(keys);
        header.addAll(List.of("objective", "optimizer", "lr", "status", "steps_done", "train_steps",
                "fisher_divergence_final", "fisher_divergence_best", "fisher_divergence_noised_final", "fisher_divergence_noised_best",
                "val_loss_final", "val_loss_best", "quality_metric", "threshold", "steps_to_threshold"));
        header.addAll(TIMING_COLUMNS);
        header.add("message");
        StringBuilder sb = new StringBuilder(String.join(",", header)).append('\n');
        for (Run r : c.runs()) {
            ObjectiveScale scale = c.scales().get(r.objective());
            Eval hit = firstBelow(r, scale);
            List<String> cells = new ArrayList<>(List.of(Integer.toString(r.index()), r.name()));
            for (String k : keys) {
                JsonNode v = r.values().get(k);
                cells.add(v == null ? "" : v.isTextual() ? v.asText() : v.toString());
            }
            cells.addAll(List.of(r.objective(), r.optimizer(), Double.toString(r.lr()), r.status().label(),
                    Long.toString(r.stepsDone()), Integer.toString(r.config().train().steps()),
                    cell(r.last(Eval::fisher)), cell(r.best(Eval::fisher)), cell(r.last(Eval::noised)), cell(r.best(Eval::noised)),
                    cell(r.last(Eval::val)), cell(r.best(Eval::val)), scale.metric(), cell(scale.threshold()),
                    hit == null ? "" : Long.toString(hit.step()),
                    hit == null ? "" : String.format(Locale.ROOT, "%.3f", hit.seconds()),
                    r.wallSeconds() == null ? "" : String.format(Locale.ROOT, "%.3f", r.wallSeconds()),
                    Boolean.toString(r.sharedCpu()), r.message() == null ? "" : r.message()));
            sb.append(String.join(",", cells.stream().map(SweepReport::quote).toList())).append('\n');
        }
        return sb.toString();
    }

    private static String cell(Double v) {
        return v == null ? "" : Double.toString(v);
    }

    private static String quote(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) return "\"" + s.replace("\"", "\"\"").replace("\n", " ") + "\"";
        return s;
    }

    // ---- report.md ----

    static String markdown(Contents c, List<String> plots) {
        StringBuilder md = new StringBuilder("# Sweep report\n\n");
        Map<RunFolder.Status, Long> counts = new TreeMap<>();
        for (Run r : c.runs()) counts.merge(r.status(), 1L, Long::sum);
        if (c.runs().isEmpty()) md.append("No runs in `runs/` have started yet.");
        else md.append(Words.count(c.runs().size(), "run")).append(" in `runs/`: ")
                .append(Words.and(counts.entrySet().stream().map(e -> e.getValue() + " " + e.getKey().label()).toList())).append(".");
        long sharing = c.runs().stream().filter(Run::sharedCpu).count();
        if (sharing > 0) {
            md.append(' ').append(sharing == c.runs().size() ? (sharing == 1 ? "It" : sharing == 2 ? "Both" : "All " + sharing)
                            : sharing + " of them")
                    .append(" shared the CPU with others (`--parallel`, `shared_cpu` = true in "
                            + "results.csv): compare such runs by steps; their seconds are only comparable with runs that shared the "
                            + "same way.");
        }
        md.append("\n\nQuality = final held-out true Fisher divergence ½E‖s_θ − s*‖² (`fisher_divergence`), or the held-out "
                + "exact SM loss (`val_loss`, the same up to a constant of the data) where the density is unknown; lower is "
                + "better. The best learning rate of an optimizer is the one with the lowest mean quality over seeds among "
                + "rates where every seed finished; ± is the standard deviation over seeds. Threshold: per objective, "
                + "best + |best| (2× the best value any finished run reached at any eval step); *steps/seconds to threshold* "
                + "is the mean over seeds of the first eval step at or below it.\n");

        for (var scaleEntry : c.scales().entrySet()) {
            String objective = scaleEntry.getKey();
            ObjectiveScale scale = scaleEntry.getValue();
            List<Arm> arms = c.arms().stream().filter(a -> a.objective().equals(objective)).toList();
            md.append("\n## Objective: ").append(objective).append("\n\n");
            md.append("Quality: `").append(scale.metric()).append("`; ").append(scale.threshold() == null
                    ? "no threshold, as no run of this objective finished with a value." : "threshold " + fmt(scale.threshold()) + ".")
                    .append("\n\n");
            boolean denoising = arms.stream().flatMap(a -> a.rates().stream()).flatMap(s -> s.runs().stream())
                    .anyMatch(r -> r.best(Eval::noised) != null);
            md.append("| optimizer | best lr | quality (mean ± sd, seeds) |").append(denoising ? " Fisher to p_σ |" : "")
                    .append(" val_loss | steps to threshold | seconds to threshold | wall s/run | rates tried (diverged) |\n");
            md.append("|---|---|---|").append(denoising ? "---|" : "").append("---|---|---|---|---|\n");
            for (Arm a : arms) {
                String tried = String.join(", ", a.rates().stream().map(s -> SweepSpec.compact(s.lr())
                        + (s.diverged() > 0 ? " (" + s.diverged() + "/" + s.runs().size() + " diverged)" : "")
                        + (s.finished() + s.diverged() < s.runs().size() ? " (unfinished)" : "")).toList());
                if (a.best() == null) {
                    md.append("| ").append(a.optimizer()).append(" | none finished | |").append(denoising ? " |" : "")
                            .append(" | | | | ").append(tried).append(" |\n");
                    continue;
                }
                RateStats b = a.best();
                List<Run> seeds = b.runs();
                List<Eval> hits = seeds.stream().map(r -> firstBelow(r, scale)).toList();
                long reached = hits.stream().filter(h -> h != null).count();
                String steps = reached == 0 ? "not reached" : String.format(Locale.ROOT, "%.0f",
                        mean(hits.stream().filter(h -> h != null).map(h -> (double) h.step()).toList()))
                        + (reached < seeds.size() ? " (" + reached + "/" + seeds.size() + " reached)" : "");
                String secs = reached == 0 ? "" : fmt(mean(hits.stream().filter(h -> h != null).map(Eval::seconds).toList()));
                boolean shared = seeds.stream().anyMatch(Run::sharedCpu);
                md.append("| ").append(a.optimizer()).append(" | ").append(SweepSpec.compact(b.lr())).append(" | ")
                        .append(fmt(b.mean())).append(" ± ").append(fmt(b.sd())).append(" (").append(seeds.size()).append(") |");
                if (denoising) md.append(' ').append(fmt(mean(seeds.stream().map(r -> r.last(Eval::noised)).toList()))).append(" |");
                md.append(' ').append(fmt(mean(seeds.stream().map(r -> r.last(Eval::val)).toList()))).append(" | ")
                        .append(steps).append(" | ").append(secs).append(shared && !secs.isEmpty() ? " (shared CPU)" : "").append(" | ")
                        .append(fmt(mean(seeds.stream().map(Run::wallSeconds).toList()))).append(shared ? " (shared CPU)" : "").append(" | ")
                        .append(tried).append(" |\n");
            }
            md.append("\nRanking (best first): ").append(rankingText(ranking(arms))).append(".\n");
            md.append(diagnosticsTable(arms));
        }

        md.append("\n## Does the ranking depend on the objective?\n\n").append(rankingComparison(c)).append("\n");

        if (!plots.isEmpty()) {
            md.append("\n## Plots\n\n");
            for (String p : plots) md.append("- [").append(p).append("](plots/").append(p).append(")\n");
        }
        List<Run> trouble = c.runs().stream().filter(r -> !r.finished()).toList();
        if (!trouble.isEmpty() || !c.skippedFolders().isEmpty()) {
            md.append("\n## Runs that did not finish\n\n");
            for (Run r : trouble) {
                md.append("- `").append(r.name()).append("`: ").append(r.status().label()).append(" at step ").append(r.stepsDone())
                        .append(" of ").append(r.config().train().steps()).append(r.message() == null ? "" : ": " + r.message()).append('\n');
            }
            for (String s : c.skippedFolders()) md.append("- `").append(s).append("`: not read\n");
            List<String> advice = new ArrayList<>();
            if (trouble.stream().anyMatch(r -> r.status() != RunFolder.Status.DIVERGED)) advice.add("run the sweep again to continue "
                    + (trouble.stream().filter(r -> r.status() != RunFolder.Status.DIVERGED).count() == 1 ? "the run" : "the runs")
                    + " that stopped short");
            if (trouble.stream().anyMatch(r -> r.status() == RunFolder.Status.DIVERGED)) advice.add("a diverged run stays recorded "
                    + "(delete its folder to retry it)");
            if (!c.skippedFolders().isEmpty()) advice.add("a folder not read has no point record or has not started, so the sweep "
                    + "does not count it");
            String text = String.join("; ", advice);
            md.append('\n').append(Character.toUpperCase(text.charAt(0))).append(text.substring(1)).append(".\n");
        }
        return md.toString();
    }

    /**
     * RQ2: how the objective meets each optimizer at its best rate — the per-step diagnostics, averaged over steps
     * and then over seeds; columns that no optimizer logged are left out.
     */
    static String diagnosticsTable(List<Arm> arms) {
        List<Arm> withBest = arms.stream().filter(a -> a.best() != null).toList();
        List<String> keys = DIAGNOSTICS.stream().filter(k -> withBest.stream()
                .anyMatch(a -> a.best().runs().stream().anyMatch(r -> r.diagnostics().containsKey(k)))).toList();
        if (withBest.isEmpty() || keys.isEmpty()) return "";
        StringBuilder md = new StringBuilder("\nPer-step diagnostics at the best rate (mean over steps, then over seeds; "
                + "grad_noise = sqrt(tr Σ / B)/‖g‖ from the two half-batches; update_cosine between successive updates; "
                + "shampoo_root_failures = failed root computations per run):\n\n| optimizer |");
        for (String k : keys) md.append(' ').append(k).append(" |");
        md.append("\n|---|").append("---|".repeat(keys.size())).append('\n');
        for (Arm a : withBest) {
            md.append("| ").append(a.optimizer()).append(" |");
            for (String k : keys) {
                List<Double> v = a.best().runs().stream().map(r -> r.diagnostics().get(k)).filter(java.util.Objects::nonNull).toList();
                md.append(' ').append(v.isEmpty() ? "—" : fmt(mean(v))).append(" |");
            }
            md.append('\n');
        }
        return md.toString();
    }

    /** The arms with a best rate, best first. */
    static List<Arm> ranking(List<Arm> arms) {
        return arms.stream().filter(a -> a.best() != null).sorted(Comparator.comparingDouble(a -> a.best().mean())).toList();
    }

    static String rankingText(List<Arm> ranked) {
        if (ranked.isEmpty()) return "none (no optimizer finished every seed at any rate)";
        if (ranked.size() == 1) {
            Arm a = ranked.getFirst();
            return "1. " + a.optimizer() + " (" + fmt(a.best().mean()) + "), the only optimizer that finished every seed at some rate";
        }
        StringBuilder sb = new StringBuilder();
        boolean anyClose = false;
        for (int i = 0; i < ranked.size(); i++) {
            Arm a = ranked.get(i);
            if (i > 0) {
                Arm prev = ranked.get(i - 1);
                // Neighbours whose means differ by less than their spreads are not told apart by this sweep.
                boolean close = prev.best().runs().size() > 1 && a.best().runs().size() > 1
                        && a.best().mean() - prev.best().mean() <= prev.best().sd() + a.best().sd();
                anyClose |= close;
                sb.append(close ? " ≈ " : ", ");
            }
            sb.append(i + 1).append(". ").append(a.optimizer()).append(" (").append(fmt(a.best().mean())).append(")");
        }
        long oneSeed = ranked.stream().filter(a -> a.best().runs().size() < 2).count();
        if (oneSeed == ranked.size()) sb.append("; one seed per rate, so no spread to judge ties by");
        else if (oneSeed > 0) sb.append("; ").append(oneSeed == 1 ? "one optimizer has" : oneSeed + " optimizers have")
                .append(" one seed at its best rate, so ties with ").append(oneSeed == 1 ? "it" : "them").append(" cannot be judged");
        if (anyClose) sb.append(" (≈: means closer than their spreads)");
        return sb.toString();
    }

    static String rankingComparison(Contents c) {
        Map<String, List<String>> orders = new LinkedHashMap<>();
        for (String objective : c.scales().keySet()) {
            orders.put(objective, ranking(c.arms().stream().filter(a -> a.objective().equals(objective)).toList()).stream()
                    .map(Arm::optimizer).toList());
        }
        if (orders.isEmpty()) return "No run has been read, so there is nothing to compare.";
        if (orders.size() < 2) return "Only one objective in this sweep, so there is nothing to compare.";
        Set<String> common = null;
        for (List<String> o : orders.values()) {
            if (common == null) common = new LinkedHashSet<>(o);
            else common.retainAll(o);
        }
        Set<String> shared = common;
        Map<String, List<String>> restricted = new LinkedHashMap<>();
        orders.forEach((k, v) -> restricted.put(k, v.stream().filter(shared::contains).toList()));
        if (shared.size() < 2) {
            String all = String.join("; ", orders.entrySet().stream().map(e -> e.getKey() + ": "
                    + (e.getValue().isEmpty() ? "none ranked" : String.join(", ", e.getValue()))).toList());
            return (shared.isEmpty() ? "No optimizer was" : "Only " + shared.iterator().next() + " was")
                    + " ranked under every objective, so the rankings cannot be compared (" + all + ").";
        }
        String listing = String.join("; ", restricted.entrySet().stream().map(e -> e.getKey() + ": " + String.join(", ", e.getValue())).toList());
        boolean same = restricted.values().stream().distinct().count() == 1;
        String scope = shared.size() < orders.values().stream().mapToInt(List::size).max().orElse(0)
                ? " (comparing the " + shared.size() + " optimizers ranked under every objective)" : "";
        boolean oneSeed = c.arms().stream().anyMatch(a -> a.best() != null && a.best().runs().size() < 2);
        String caveat = oneSeed ? " With one seed per rate, close means may swap by chance: add seeds before reading much into it." : "";
        if (same) return "The ranking of optimizers (best first) is the same under every objective" + scope + ": " + listing + "." + caveat;
        boolean sameWinner = restricted.values().stream().map(List::getFirst).distinct().count() == 1;
        return "The ranking of optimizers (best first) changes between objectives" + scope + ": " + listing + "; "
                + (sameWinner ? "the best optimizer is the same." : "even the best optimizer differs.") + caveat;
    }

    static Double mean(List<Double> v) {
        List<Double> ok = v.stream().filter(x -> x != null && Double.isFinite(x)).toList();
        return ok.isEmpty() ? null : ok.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    static Double sd(List<Double> v) {
        Double m = mean(v);
        if (m == null) return null;
        List<Double> ok = v.stream().filter(x -> x != null && Double.isFinite(x)).toList();
        if (ok.size() < 2) return 0.0;
        double s = 0;
        for (double x : ok) s += (x - m) * (x - m);
        return Math.sqrt(s / (ok.size() - 1));
    }

    static String fmt(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.4g", v);
    }
}
