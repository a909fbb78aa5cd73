package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.TestTexts;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.config.TrainConfig;
import ebm.io.Safetensors;
import ebm.train.MetricsLog;
import ebm.train.RunState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ebm train --resume DIR --steps N`: a finished run continues past its train.steps with its schedule's horizon kept. */
class ResumeExtensionTest {
    @TempDir
    Path tmp;

    private static final String SMALL = TestFiles.twoPeaks(5, 1000, 200, "{hidden: [12, 8], activation: tanh}", "{name: adamw, lr: 0.01}",
            "{steps: 30, batch_size: 32, eval_every: 10, checkpoint_every: 10, warmup: 4}");

    private static double[] stateParams(Path dir) {
        return Safetensors.read(dir.resolve(RunState.FILE)).tensors().get("params").data();
    }

    @Test
    void aFinishedRunExtendedWithStepsEqualsOneTrainedThatLongWithTheSameHorizon() throws IOException {
        Path cfg = TestFiles.yaml(tmp, "c", SMALL);
        Path whole = tmp.resolve("whole"), extended = tmp.resolve("extended");
        // what the extended run must equal: 50 steps whose schedule's horizon is the first run's 30
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", whole.toString(), "--set", "train.steps=50",
                "--set", "train.schedule_steps=30").exitCode());
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", extended.toString()).exitCode());
        Cli resumed = Cli.run("train", "--resume", extended.toString(), "--steps", "50");
        assertEquals(0, resumed.exitCode());
        TestTexts.assertContains(resumed.out(), "extending " + extended + " from train.steps 30 to 50",
                "the learning-rate schedule keeps its horizon (train.schedule_steps 30)", "resuming " + extended + " at step 30 of 50");
        RunConfig recorded = ConfigLoader.load(extended.resolve("config.yaml"), List.of());
        System.out.println("extended run's config: train.steps " + recorded.train().steps() + ", train.schedule_steps "
                + recorded.train().scheduleSteps());
        assertEquals(50, recorded.train().steps());
        assertEquals(30, recorded.train().scheduleSteps());
        assertArrayEquals(stateParams(whole), stateParams(extended), 0.0);
        TrainCommandTest.assertMetricsEqual(whole, extended, 50);

        Cli shorter = Cli.run("train", "--resume", extended.toString(), "--steps", "40");
        assertEquals(2, shorter.exitCode());
        TestTexts.assertContains(shorter.err(), "--steps: must be more than the run's train.steps (50), got 40");
        Cli withoutResume = Cli.run("train", cfg.toString(), "--out", tmp.resolve("x").toString(), "--steps", "40");
        assertEquals(2, withoutResume.exitCode());
        TestTexts.assertContains(withoutResume.err(), "--steps N goes with --resume DIR");
    }

    /** After the kept horizon a cosine schedule stays at its floor, 0; before it nothing changes. */
    @Test
    void aCosineScheduleKeepsItsHorizonAndStaysAtZeroAfterIt() {
        TrainConfig original = new TrainConfig(30, null, null, null, null, "cosine", 4, null, null, null, null, null);
        TrainConfig extended = original.extendedTo(50);
        for (long step : new long[] {1, 4, 10, 29, 30}) {
            assertEquals(original.lrScale(step), extended.lrScale(step), 0.0, "step " + step);
        }
        System.out.printf("cosine with horizon 30 extended to 50: lr scale at 15 %.6f, 30 %.3g, 31 %.3g, 50 %.3g%n",
                extended.lrScale(15), extended.lrScale(30), extended.lrScale(31), extended.lrScale(50));
        assertEquals(0.0, extended.lrScale(31), 0.0);
        assertEquals(0.0, extended.lrScale(50), 0.0);
        assertTrue(extended.lrScale(15) > 0.1);
    }

    /** A run folder from before the new state entries and config keys resumes (the first resumed step has no cosine). */
    @Test
    void anOlderRunFolderStillResumes() throws IOException {
        Path cfg = TestFiles.yaml(tmp, "c", SMALL);
        Path whole = tmp.resolve("whole"), old = tmp.resolve("old");
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", whole.toString()).exitCode());
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", old.toString(), "--set", "train.stop_after=20").exitCode());
        // as an older version wrote them: no update.previous, ema or best tensors, no new train.* keys
        RunState state = RunState.load(old);
        new RunState(state.step(), state.seconds(), state.params(), state.optimizer(), state.divergence()).save(old);
        String yaml = Files.readString(old.resolve("config.yaml"));
        String older = yaml.lines().filter(l -> !l.matches("\\s*(schedule_steps|accumulate|early_stop|ema):.*"))
                .reduce("", (a, b) -> a + b + "\n");
        Files.writeString(old.resolve("config.yaml"), older);
        assertTrue(!older.contains("schedule_steps") && !older.contains("early_stop") && older.contains("warmup"), older);
        assertEquals(0, Cli.run("train", "--resume", old.toString()).exitCode());
        assertArrayEquals(stateParams(whole), stateParams(old), 0.0);
        Map<String, Object> firstResumed = MetricsLog.read(old.resolve("metrics.jsonl")).get(20);
        System.out.println("an older folder's first resumed step: " + firstResumed);
        assertNull(firstResumed.get("update_cosine"));
        assertEquals(21L, ((Number) firstResumed.get("step")).longValue());
    }
}
