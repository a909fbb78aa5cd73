package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ebm.TestFiles;
import ebm.TestTexts;
import ebm.io.Npy;
import ebm.io.Safetensors;
import ebm.train.MetricsLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a run does when things go wrong: it blows up without a NaN, the disk fills up under metrics.jsonl, a
 * scheduler sends SIGTERM. Each ends with one line saying what happened and what to do, and a resume continues bitwise.
 */
class RunRobustnessTest {
    @TempDir
    Path tmp;

    private static final String SMALL = TestFiles.twoPeaks(3, 2000, 300, "{hidden: [16, 12], activation: silu}", null,
            "{steps: 30, batch_size: 64, eval_every: 10, checkpoint_every: 10, schedule: cosine, warmup: 3}");

    /** tanh and an enormous SGD step: after step 1 every unit is saturated, the network is dead, its gradient exactly 0. */
    private static final String DEAD = TestFiles.twoPeaks(3, 2000, 300, "{hidden: [16, 12], activation: tanh}", "{name: sgd, lr: 1e6}",
            "{steps: 120, batch_size: 64, eval_every: 10, checkpoint_every: 10}");

    private Path config(String yaml) throws IOException {
        return TestFiles.yaml(tmp, "c", yaml);
    }

    private static double[] stateParams(Path dir) {
        return Safetensors.read(dir.resolve("state.safetensors")).tensors().get("params").data();
    }

    private static long stateStep(Path dir) {
        return Long.parseLong(Safetensors.read(dir.resolve("state.safetensors")).metadata().get("step"));
    }

    @Test
    void aRunThatBlowsUpWithoutANaNStopsWithExitThree() throws IOException {
        // lr 1e6: the loss goes from 0.01 to 1e35 at step 2 and never becomes NaN; this used to end "finished".
        Path dir = tmp.resolve("blown");
        Cli r = Cli.run("train", config(SMALL).toString(), "--out", dir.toString(), "--set", "optimizer.lr=1e6");
        assertEquals(3, r.exitCode());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("diverged at step 2 (rule: loss magnitude)"), r.err());
        assertTrue(r.err().contains("no checkpoint to go back to"), r.err());
        assertFalse(Files.exists(dir.resolve("summary.md")), "a diverged run has no summary of a finished one");
        assertFalse(Files.exists(dir.resolve("energy.png")));
        // A good checkpoint is named as such: SGD at lr 30 (warmup 30) blows up at step 7, the checkpoint of step 5 is good.
        Path late = tmp.resolve("late");
        Cli l = Cli.run("train", config(SMALL).toString(), "--out", late.toString(), "--set", "optimizer.name=sgd", "--set",
                "optimizer.lr=30", "--set", "train.warmup=30", "--set", "train.schedule=constant", "--set", "train.steps=60",
                "--set", "train.checkpoint_every=5");
        assertEquals(3, l.exitCode());
        assertTrue(l.err().contains("diverged at step 7") && l.err().contains("the last good checkpoint is "
                + late.resolve("checkpoint.safetensors") + " (step 5)"), l.err());
    }

    @Test
    void aDeadNetworkIsCaughtAndAResumedRunDecidesExactlyTheSame() throws IOException {
        Path whole = tmp.resolve("whole"), parts = tmp.resolve("parts");
        Cli w = Cli.run("train", config(DEAD).toString(), "--out", whole.toString());
        assertEquals(3, w.exitCode());
        assertTrue(w.err().contains("diverged at step 51 (rule: zero gradient)"), w.err());
        assertTrue(w.err().contains("no good checkpoint is left"), "the checkpoint of step 50 holds the dead network: " + w.err());
        assertEquals(0, Cli.run("train", config(DEAD).toString(), "--out", parts.toString(), "--set", "train.stop_after=30").exitCode());
        assertEquals(30, stateStep(parts));
        // Without the detector's state in state.safetensors, the resumed run would count again from step 31 (fire at 80).
        Cli p = Cli.run("train", "--resume", parts.toString());
        assertEquals(3, p.exitCode());
        assertEquals(w.err().replace(whole.toString(), "DIR"), p.err().replace(parts.toString(), "DIR"));
        assertEquals(50, stateStep(whole));
        assertEquals(50, stateStep(parts));
        assertArrayEquals(stateParams(whole), stateParams(parts), 0.0);
        assertEquals(50, MetricsLog.read(parts.resolve("metrics.jsonl")).size());
    }

    @Test
    void theSummarySaysWhenTheModelEndsWorseThanTheGaussian() throws IOException {
        Path known = tmp.resolve("known");
        assertEquals(0, Cli.run("train", config(DEAD).toString(), "--out", known.toString(), "--set", "train.stop_after=20").exitCode());
        String summary = Files.readString(known.resolve("summary.md"));
        System.out.println(summary);
        assertTrue(summary.contains("WARNING | the model ends worse than the moment-matched Gaussian: Fisher divergence"), summary);
        // A file: no density, so the held-out exact SM loss decides (the dead network's is 0, the Gaussian's negative).
        Random r = new Random(11);
        double[] x = new double[600 * 2];
        for (int i = 0; i < x.length; i++) x[i] = (i % 2 == 0 ? 1.5 : 0.5) * r.nextGaussian() + (i % 4 == 0 ? 2 : 0);
        Path points = tmp.resolve("points.npy");
        Npy.write(points, 600, 2, x);
        Path file = tmp.resolve("file");
        Cli f = Cli.run("train", config(DEAD).toString(), "--out", file.toString(), "--set", "train.stop_after=20", "--set",
                "data.name=file", "--set", "data.path=" + points);
        assertEquals(0, f.exitCode());
        String fileSummary = Files.readString(file.resolve("summary.md"));
        TestTexts.assertContains(fileSummary,
                "moment-matched Gaussian's held-out exact SM loss",
                "the model ends worse than the moment-matched Gaussian: held-out exact SM loss");
        assertTrue(f.out().contains("the model ends worse than the moment-matched Gaussian"), f.out());
    }

    @Test
    void aFullDiskUnderTheMetricsIsOneLineSayingWhatToDo() throws IOException {
        Path full = Path.of("/dev/full");
        Assumptions.assumeTrue(Files.exists(full), "skipped: no /dev/full on this system");
        Path dir = tmp.resolve("full");
        Files.createDirectories(dir);
        Files.createSymbolicLink(dir.resolve("metrics.jsonl"), full); // every write fails with ENOSPC
        Cli r = Cli.run("train", config(SMALL).toString(), "--out", dir.toString());
        assertEquals(2, r.exitCode());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        assertTrue(r.err().contains("cannot append to " + dir.resolve("metrics.jsonl") + ": No space left on device at step 1"), r.err());
        assertTrue(r.err().contains("free disk space") && r.err().contains("run the same command again"), r.err());
        // Later in a run, the message points at the checkpoint to resume from.
        Path later = tmp.resolve("later");
        assertEquals(0, Cli.run("train", config(SMALL).toString(), "--out", later.toString(), "--set", "train.stop_after=10").exitCode());
        Files.delete(later.resolve("metrics.jsonl"));
        Files.createSymbolicLink(later.resolve("metrics.jsonl"), full);
        Cli resumed = Cli.run("train", "--resume", later.toString());
        assertEquals(2, resumed.exitCode());
        assertEquals(1, resumed.err().strip().lines().count(), resumed.err());
        assertTrue(resumed.err().contains("No space left on device at step 11") && resumed.err().contains(
                "continue with `./ebm train --resume " + later + "` from the last checkpoint (step 10)"), resumed.err());
    }

    @Test
    void aCutLastMetricsLineIsRepairedOnResume() throws IOException {
        Path dir = tmp.resolve("torn");
        Path cfg = config(SMALL);
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", dir.toString(), "--set", "train.stop_after=20").exitCode());
        // The disk filled up while writing step 23's line (after the checkpoint of step 20): half a line, no newline.
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\":21,\"loss\":0.1}\n{\"step\":22,\"loss\":0.1}\n{\"step\":23,\"loss\":0.0",
                StandardOpenOption.APPEND);
        Cli r = Cli.run("train", "--resume", dir.toString());
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("repaired " + dir.resolve("metrics.jsonl") + ": dropped line 23, which was cut short"), r.out());
        List<Map<String, Object>> records = MetricsLog.read(dir.resolve("metrics.jsonl")); // every line parses
        assertEquals(30, records.size());
        for (int i = 0; i < 30; i++) assertEquals(i + 1, ((Number) records.get(i).get("step")).intValue());
    }

    /** The main class in a JVM of its own, as `./ebm` starts it. */
    @Test
    void sigtermWritesACheckpointSaysHowToResumeAndTheResumeIsBitwise() throws Exception {
        String yaml = TestFiles.twoPeaks(4, 2000, 300, "{hidden: [32, 32], activation: softplus}", "{name: adamw, lr: 0.003}",
                "{steps: 5000, batch_size: 128, eval_every: 2500, checkpoint_every: 2500, schedule: cosine, warmup: 20}");
        Path cfg = config(yaml);
        Path whole = tmp.resolve("whole"), killed = tmp.resolve("killed"), log = tmp.resolve("killed.log");
        Process p = Cli.process(log, "train", cfg.toString(), "--out", killed.toString()).start();
        Cli.awaitSteps(p, killed.resolve("metrics.jsonl"), 200, log, "the run");
        p.destroy(); // SIGTERM on Linux
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the process did not exit after SIGTERM");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println("killed run, exit " + p.exitValue() + ":\n" + output.strip());
        assertEquals(143, p.exitValue(), "128 + SIGTERM");
        long step = stateStep(killed);
        assertTrue(step >= 200 && step < 5000, "checkpoint at step " + step);
        assertTrue(output.contains("stopped by a termination signal (SIGTERM or Ctrl-C) after step " + step + " of 5000"), output);
        assertTrue(output.contains("continue with `./ebm train --resume " + killed + "`"), output);
        assertEquals(step, MetricsLog.read(killed.resolve("metrics.jsonl")).size(), "metrics end at the checkpoint's step");
        assertEquals(Long.toString(step), Safetensors.read(killed.resolve("checkpoint.safetensors")).metadata().get("step"));
        // What a kill inside a write leaves behind is cleaned when the run resumes.
        Files.writeString(killed.resolve(".state.safetensors.5ca1ab1e.tmp"), "half a state");
        Files.writeString(killed.resolve(".samples.npy1234567.tmp"), "half an array");

        Cli resumed = Cli.run("train", "--resume", killed.toString());
        assertEquals(0, resumed.exitCode());
        assertTrue(resumed.out().contains("removed 2 temporary file(s) left by an interrupted write"), resumed.out());
        assertFalse(Files.exists(killed.resolve(".state.safetensors.5ca1ab1e.tmp")));
        assertFalse(Files.exists(killed.resolve(".samples.npy1234567.tmp")));
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", whole.toString()).exitCode());
        assertArrayEquals(stateParams(whole), stateParams(killed), 0.0);
        assertEquals(5000, MetricsLog.read(killed.resolve("metrics.jsonl")).size());
    }

    @Test
    void sigtermStopsASweepWithItsRunningPointCheckpointedAndTheSweepContinuesOnTheNextCall() throws Exception {
        Path sweep = TestFiles.seedSweep(tmp, 1000, 200, "[16, 12]", 3000, 64, 1000, 2);
        Path dir = tmp.resolve("swept"), log = tmp.resolve("sweep.log");
        Path first = dir.resolve("runs").resolve("seed0"), second = dir.resolve("runs").resolve("seed1");
        Process p = Cli.process(log, "sweep", sweep.toString(), "--out", dir.toString()).start();
        Cli.awaitSteps(p, first.resolve("metrics.jsonl"), 200, log, "the sweep's first point");
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the sweep did not exit after SIGTERM");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println("stopped sweep, exit " + p.exitValue() + ":\n" + output.strip());
        assertEquals(143, p.exitValue());
        assertTrue(output.contains("sweep stopped by a termination signal") && output.contains("run the same command again"), output);
        long step = stateStep(first);
        assertTrue(step >= 200 && step < 3000, "checkpoint at step " + step);
        assertTrue(Files.readString(first.resolve("sweep-point.json")).contains("\"stopped\""));
        assertFalse(Files.exists(second.resolve("state.safetensors")), "nothing new started after the signal");

        Cli again = Cli.run("sweep", sweep.toString(), "--out", dir.toString());
        System.out.print(again.out());
        assertEquals(0, again.exitCode());
        assertTrue(again.out().contains("seed0: resuming") && again.out().contains("seed1: starting"), again.out());
        List<String> rows = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(3, rows.size());
        assertTrue(rows.get(1).contains(",finished,") && rows.get(2).contains(",finished,"), String.join("\n", rows));
    }
}
