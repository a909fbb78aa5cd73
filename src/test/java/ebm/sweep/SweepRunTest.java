package ebm.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ebm.cli.Cli;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.train.MetricsLog;
import ebm.train.Trainer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ebm sweep` end to end on a tiny grid (2 objectives x 2 optimizers, 20 steps of an 8-unit net): run folders and
 * report, skipping finished runs, resuming interrupted ones, shards merged by `sweep report`, diverged runs recorded.
 */
class SweepRunTest {
    @TempDir
    static Path tmp;

    static final String TINY = """
            base:
              seed: 1
              data: {name: two-peaks, seed: 0, n_train: 400, n_val: 100}
              model: {hidden: [8]}
              objective: {sigma: 0.2}
              train: {steps: 20, batch_size: 32, eval_every: 5, checkpoint_every: 5}
            grid:
              objective.name: [exact, denoising]
            variants:
              sgd: {optimizer.name: sgd, optimizer.lr: [0.01]}
              adamw: {optimizer.name: adamw, optimizer.lr: [0.01]}
            """;
    static final List<String> NAMES = List.of("exact_sgd_lr0.01", "exact_adamw_lr0.01", "denoising_sgd_lr0.01", "denoising_adamw_lr0.01");

    static Path sweepFile;
    static Path whole;

    @BeforeAll
    static void runTheWholeSweepTwoAtATime() throws IOException {
        sweepFile = tmp.resolve("tiny.yaml");
        Files.writeString(sweepFile, TINY);
        whole = tmp.resolve("whole");
        Cli r = Cli.run("sweep", sweepFile.toString(), "--out", whole.toString(), "--parallel", "2");
        System.out.print(r.out());
        assertEquals(0, r.exitCode());
    }

    /** results.csv as rows of cells, without the timing columns (those differ between any two runs). */
    static List<List<String>> rowsWithoutTiming(Path dir) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("results.csv"));
        List<String> header = Arrays.asList(lines.getFirst().split(",", -1));
        List<List<String>> rows = new ArrayList<>();
        for (String line : lines) {
            List<String> cells = Arrays.asList(line.split(",", -1));
            List<String> kept = new ArrayList<>();
            for (int i = 0; i < header.size(); i++) if (!SweepReport.TIMING_COLUMNS.contains(header.get(i))) kept.add(cells.get(i));
            rows.add(kept);
        }
        return rows;
    }

    static String column(Path dir, String name, int row) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("results.csv"));
        int i = Arrays.asList(lines.getFirst().split(",", -1)).indexOf(name);
        return lines.get(row + 1).split(",", -1)[i];
    }

    @Test
    void aSweepWritesRunFoldersAndAReport() throws IOException {
        for (String n : NAMES) {
            Path run = whole.resolve("runs").resolve(n);
            for (String f : new String[] {"config.yaml", "metrics.jsonl", "state.safetensors", "checkpoint.safetensors", "summary.md",
                    "sweep-point.json", "train.log"}) {
                assertTrue(Files.exists(run.resolve(f)), n + "/" + f);
            }
            assertEquals(20, MetricsLog.read(run.resolve("metrics.jsonl")).size());
        }
        List<String> csv = Files.readAllLines(whole.resolve("results.csv"));
        System.out.println(String.join("\n", csv));
        assertEquals(1 + NAMES.size(), csv.size());
        for (int i = 0; i < NAMES.size(); i++) {
            assertEquals(NAMES.get(i), column(whole, "name", i));
            assertEquals("finished", column(whole, "status", i));
            assertEquals("true", column(whole, "shared_cpu", i), "ran two at a time");
            assertFalse(column(whole, "fisher_divergence_final", i).isEmpty());
            assertFalse(column(whole, "val_loss_final", i).isEmpty());
        }
        assertFalse(column(whole, "fisher_divergence_noised_final", 2).isEmpty(), "denoising runs have the noised Fisher");
        assertTrue(column(whole, "fisher_divergence_noised_final", 0).isEmpty(), "exact runs have none");
        String report = Files.readString(whole.resolve("report.md"));
        System.out.println(report);
        for (String s : new String[] {"## Objective: exact", "## Objective: denoising", "Ranking (best first)", "shared the CPU",
                "Does the ranking depend on the objective?", "Per-step diagnostics at the best rate", "grad_noise", "update_cosine"}) {
            assertTrue(report.contains(s), s);
        }
        for (String p : new String[] {"exact_fisher_divergence_vs_step.png", "exact_fisher_divergence_vs_seconds.png",
                "exact_lr_sensitivity.png", "denoising_fisher_divergence_vs_step.png", "denoising_lr_sensitivity.png"}) {
            assertTrue(Files.size(whole.resolve("plots").resolve(p)) > 1000, p);
        }
    }

    @Test
    void runningItAgainSkipsFinishedRunsAndLeavesThemUntouched() throws IOException {
        Path metrics = whole.resolve("runs").resolve(NAMES.get(1)).resolve("metrics.jsonl");
        byte[] before = Files.readAllBytes(metrics);
        var modified = Files.getLastModifiedTime(metrics);
        Cli r = Cli.run("sweep", sweepFile.toString(), "--out", whole.toString());
        System.out.print(r.out());
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("0 to start, 0 to resume, 4 already done"), r.out());
        assertTrue(r.out().contains(NAMES.get(1) + ": finished, skipped"));
        System.out.printf("metrics of %s: %d bytes, modified %s before and %s after%n", NAMES.get(1), before.length, modified,
                Files.getLastModifiedTime(metrics));
        assertArrayEqualsBytes(before, Files.readAllBytes(metrics));
        assertEquals(modified, Files.getLastModifiedTime(metrics));
    }

    private static void assertArrayEqualsBytes(byte[] a, byte[] b) {
        assertTrue(Arrays.equals(a, b), "file unchanged");
    }

    @Test
    void anInterruptedSweepResumesAndEndsWhereAnUninterruptedOneEnds() throws IOException {
        Path parts = tmp.resolve("parts");
        SweepSpec spec = SweepSpec.load(sweepFile);
        // One run paused at step 10 (as if the sweep was stopped there), one started and killed before any checkpoint.
        SweepSpec.Point paused = spec.points().get(2);
        ObjectNode tree = (ObjectNode) ConfigLoader.toTree(paused.config());
        ((ObjectNode) tree.get("train")).set("stop_after", IntNode.valueOf(10));
        RunConfig pausedConfig = ConfigLoader.fromTree(tree, "test");
        Trainer.start(pausedConfig, parts.resolve("runs").resolve(paused.name()), new PrintStream(OutputStream.nullOutputStream()));
        Path killed = parts.resolve("runs").resolve(spec.points().get(3).name());
        Files.createDirectories(killed);
        Files.writeString(killed.resolve("config.yaml"), ConfigLoader.toYaml(spec.points().get(3).config()));
        Files.writeString(killed.resolve("metrics.jsonl"), "{\"step\": 1, \"loss\": 0.5}\n{\"step\": 2, \"lo");

        Cli r = Cli.run("sweep", sweepFile.toString(), "--out", parts.toString());
        System.out.print(r.out());
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("3 to start, 1 to resume"), r.out());
        assertTrue(r.out().contains(paused.name() + ": resuming"));
        for (String n : NAMES) {
            List<Map<String, Object>> m = MetricsLog.read(parts.resolve("runs").resolve(n).resolve("metrics.jsonl"));
            assertEquals(20, m.size(), n);
            for (int i = 0; i < 20; i++) assertEquals(i + 1, ((Number) m.get(i).get("step")).intValue(), n);
        }
        List<List<String>> a = rowsWithoutTiming(whole), b = rowsWithoutTiming(parts);
        System.out.println("uninterrupted: " + a + "\nresumed:       " + b);
        assertEquals(a, b);
    }

    @Test
    void twoShardsInOneFolderReportTheSameResultsAsTheWholeSweep() throws IOException {
        Path sharded = tmp.resolve("sharded");
        Cli one = Cli.run("sweep", sweepFile.toString(), "--out", sharded.toString(), "--shard", "1/2");
        assertEquals(0, one.exitCode());
        assertTrue(one.out().contains("shard 1/2 takes 2"), one.out());
        Cli two = Cli.run("sweep", sweepFile.toString(), "--out", sharded.toString(), "--shard", "2/2");
        assertEquals(0, two.exitCode());
        assertEquals(List.of(NAMES.get(0), NAMES.get(2)), startedIn(one.out()));
        Cli report = Cli.run("sweep", "report", sharded.toString());
        assertEquals(0, report.exitCode());
        List<List<String>> a = rowsWithoutTiming(whole), b = rowsWithoutTiming(sharded);
        System.out.println("whole sweep:   " + a + "\ntwo shards:    " + b);
        assertEquals(a, b);
        assertEquals("false", column(sharded, "shared_cpu", 0), "shards ran one run at a time");
    }

    private static Path sweepFile(String name, String yaml) throws IOException {
        Path f = tmp.resolve(name + ".yaml");
        Files.writeString(f, yaml);
        return f;
    }

    /** Runs the sweep into dir, which must exit 0 (diverged runs are results, not failures), and prints its results.csv. */
    private static List<String> sweepResults(Path sweep, Path dir) throws IOException {
        Cli r = Cli.run("sweep", sweep.toString(), "--out", dir.toString());
        System.out.print(r.out());
        assertEquals(0, r.exitCode(), "diverged runs are results, not failures");
        List<String> lines = Files.readAllLines(dir.resolve("results.csv"));
        System.out.println(String.join("\n", lines));
        return lines;
    }

    private static List<String> startedIn(String sweepOutput) {
        return NAMES.stream().filter(n -> sweepOutput.contains(n + ": starting")).toList();
    }

    @Test
    void aDivergingRunIsRecordedAndTheSweepGoesOn() throws IOException {
        Path f = sweepFile("diverge", TINY.replace("objective.name: [exact, denoising]", "objective.name: [exact]")
                .replace("optimizer.lr: [0.01]}\n  adamw", "optimizer.lr: [1e200]}\n  adamw"));
        Path dir = tmp.resolve("diverge");
        List<String> lines = sweepResults(f, dir);
        assertEquals("diverged", column(dir, "status", 0));
        assertTrue(lines.get(1).contains("non-finite"), "the trainer's message is kept");
        assertEquals("finished", column(dir, "status", 1));
        assertTrue(Files.readString(dir.resolve("report.md")).contains("diverged"));
        Cli again = Cli.run("sweep", f.toString(), "--out", dir.toString());
        assertTrue(again.out().contains("diverged before, skipped"), again.out());
    }

    @Test
    void aRunThatBlowsUpWithoutANaNIsRecordedAsDivergedNotFinished() throws IOException {
        // AdamW at lr 1e6: the loss jumps to ~1e25 at step 2 and stays finite; it used to be "finished" with val_loss 0.
        Path f = sweepFile("blowup", TINY.replace("adamw: {optimizer.name: adamw, optimizer.lr: [0.01]}",
                "adamw: {optimizer.name: adamw, optimizer.lr: [1e6]}"));
        Path dir = tmp.resolve("blowup");
        List<String> lines = sweepResults(f, dir);
        for (String name : List.of("exact_adamw_lr1000000", "denoising_adamw_lr1000000")) {
            String row = lines.stream().filter(l -> l.startsWith(name + ",") || l.contains("," + name + ",")).findFirst().orElse(null);
            assertTrue(row != null, name + " in results.csv:\n" + String.join("\n", lines));
        }
        int diverged = 0;
        for (int i = 0; i < lines.size() - 1; i++) {
            if (column(dir, "status", i).equals("diverged")) {
                diverged++;
                assertTrue(lines.get(i + 1).contains("rule: loss magnitude"), lines.get(i + 1));
            }
        }
        assertEquals(2, diverged, "both AdamW runs diverged");
    }

    @Test
    void aFolderHoldingADifferentRunIsRefused() throws IOException {
        Path f = tmp.resolve("changed.yaml");
        Files.writeString(f, TINY.replace("steps: 20", "steps: 30"));
        Cli r = Cli.run("sweep", f.toString(), "--out", whole.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("different config (train.steps: stored 20, sweep 30)"), r.err());
    }
}
