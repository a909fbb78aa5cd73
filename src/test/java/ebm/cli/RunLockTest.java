package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ebm.TestFiles;
import ebm.train.MetricsLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One process at a time per run folder: a second trainer is refused naming the holder; a crash frees the folder; shards share a sweep. */
class RunLockTest {
    @TempDir
    Path tmp;

    private static final String LONG = TestFiles.twoPeaks(4, 1000, 200, "{hidden: [16, 12]}", "{name: adamw, lr: 0.003}",
            "{steps: 100000, batch_size: 64, eval_every: 50000, checkpoint_every: 100}");

    private static void awaitSteps(Process p, Path dir, long steps, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (Cli.lines(dir.resolve("metrics.jsonl")) < steps || !Files.exists(dir.resolve("state.safetensors"))) {
            if (!p.isAlive()) fail("the run ended early:\n" + Files.readString(log));
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                fail("the run did not reach step " + steps + " in 120 s:\n" + Files.readString(log));
            }
            Thread.sleep(10);
        }
    }

    @Test
    void aSecondTrainerIsRefusedNamingTheHolderAndACrashFreesTheFolder() throws Exception {
        Path cfg = TestFiles.yaml(tmp, "long", LONG);
        Path dir = tmp.resolve("run"), log = tmp.resolve("first.log");
        Process first = Cli.process(log, "train", cfg.toString(), "--out", dir.toString()).start();
        try {
            awaitSteps(first, dir, 150, log);
            // A second training into the same --out, in another process: refused at once, exit 2, naming the holder.
            Path secondLog = tmp.resolve("second.log");
            Process second = Cli.process(secondLog, "train", cfg.toString(), "--out", dir.toString(), "--set", "optimizer.lr=0.01").start();
            assertTrue(second.waitFor(60, TimeUnit.SECONDS), "the second trainer waited instead of being refused");
            String refused = Files.readString(secondLog, StandardCharsets.UTF_8);
            System.out.println("second trainer, exit " + second.exitValue() + ": " + refused.strip());
            assertEquals(2, second.exitValue(), refused);
            assertTrue(refused.contains(dir + " is in use by another process (pid " + first.pid() + " on host "), refused);
            assertTrue(refused.contains("training it"), refused);
            // A resume of the run that is still going: refused too (in-process here, a JVM of its own as well).
            Cli resume = Cli.run("train", "--resume", dir.toString());
            assertEquals(2, resume.exitCode());
            assertTrue(resume.err().contains("is in use by another process (pid " + first.pid()), resume.err());
            assertEquals(1, resume.err().strip().lines().count(), resume.err());
            assertTrue(Files.readString(dir.resolve("config.yaml")).contains("lr: 0.003"), "the holder's config is untouched");
            assertTrue(first.isAlive(), "the holder goes on");
        } finally {
            first.destroyForcibly(); // a crash: SIGKILL, no shutdown hook, the lock file stays behind
            assertTrue(first.waitFor(60, TimeUnit.SECONDS));
        }
        assertTrue(Files.exists(dir.resolve("run.lock")), "the lock file outlives the process; its lock does not");
        // The stale lock file does not block: the resume goes ahead and the metrics have each step once.
        long at = Long.parseLong(ebm.io.Safetensors.read(dir.resolve("state.safetensors")).metadata().get("step"));
        // Continue to a horizon just past the checkpoint: rewrite train.steps in the saved config.
        String saved = Files.readString(dir.resolve("config.yaml"));
        Files.writeString(dir.resolve("config.yaml"), saved.replace("steps: 100000", "steps: " + (at + 30)));
        Cli again = Cli.run("train", "--resume", dir.toString());
        assertEquals(0, again.exitCode(), again.err());
        List<Map<String, Object>> records = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(at + 30, records.size());
        for (int i = 0; i < records.size(); i++) assertEquals(i + 1, ((Number) records.get(i).get("step")).intValue());
    }

    @Test
    void twoSweepProcessesSharingAFolderFinishEveryPointOnceWithAValidReport() throws Exception {
        Path sweep = TestFiles.seedSweep(tmp, 500, 100, "[8, 8]", 300, 32, 100, 6);
        Path dir = tmp.resolve("shared");
        // Two copies of the same sweep (no --shard): each point must still be trained once, by whichever takes it first.
        Path logA = tmp.resolve("a.log"), logB = tmp.resolve("b.log");
        Process a = Cli.process(logA, "sweep", sweep.toString(), "--out", dir.toString()).start();
        Process b = Cli.process(logB, "sweep", sweep.toString(), "--out", dir.toString()).start();
        assertTrue(a.waitFor(300, TimeUnit.SECONDS) && b.waitFor(300, TimeUnit.SECONDS), "the sweeps did not end");
        String outA = Files.readString(logA), outB = Files.readString(logB);
        System.out.println("sweep A, exit " + a.exitValue() + ":\n" + outA.strip() + "\nsweep B, exit " + b.exitValue() + ":\n" + outB.strip());
        assertEquals(0, a.exitValue(), outA);
        assertEquals(0, b.exitValue(), outB);
        for (int s = 0; s < 6; s++) {
            Path run = dir.resolve("runs").resolve("seed" + s);
            List<Map<String, Object>> records = MetricsLog.read(run.resolve("metrics.jsonl"));
            assertEquals(300, records.size(), "seed" + s + " trained exactly once");
            for (int i = 0; i < 300; i++) assertEquals(i + 1, ((Number) records.get(i).get("step")).intValue());
            int starts = count(outA, "seed" + s + ": starting") + count(outB, "seed" + s + ": starting");
            assertEquals(1, starts, "seed" + s + " started by exactly one process");
            assertTrue(Files.readString(run.resolve("sweep-point.json")).contains("\"finished\""));
        }
        assertFalse((outA + outB).contains("failed"), "a point the other process holds is skipped, not failed");
        // The report the last one wrote has every point, finished, and the report can be rebuilt from the folder.
        List<String> rows = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(7, rows.size(), String.join("\n", rows));
        for (String row : rows.subList(1, 7)) assertTrue(row.contains(",finished,"), row);
        assertTrue(Files.readString(dir.resolve("report.md")).contains("adamw"));
        // A third run skips all of them.
        Cli again = Cli.run("sweep", sweep.toString(), "--out", dir.toString());
        assertEquals(0, again.exitCode());
        assertTrue(again.out().contains("0 to start, 0 to resume, 6 already done (skipped)"), again.out());
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) n++;
        return n;
    }
}
