package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.TestTexts;
import ebm.io.MlpCheckpoint;
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

/** best.safetensors (the lowest val_loss's model), train.early_stop, and the file-data comparison with the Gaussian. */
class BestCheckpointAndEarlyStopTest {
    @TempDir
    Path tmp;

    /** AdamW at a rate high enough that the held-out loss stops falling within a few hundred steps. */
    private static final String NOISY = TestFiles.twoPeaks(2, 1000, 200, "{hidden: [12, 8], activation: softplus}", "{name: adamw, lr: 0.05}",
            "{steps: 400, batch_size: 32, eval_every: 5, checkpoint_every: 15, early_stop: 3}");

    private record Best(long step, double valLoss) {}

    /** The eval step with the lowest val_loss in metrics.jsonl (the first of equals). */
    private static Best lowestValLoss(Path dir) {
        Best best = null;
        for (Map<String, Object> r : MetricsLog.read(dir.resolve("metrics.jsonl"))) {
            if (r.get("val_loss") instanceof Number v && (best == null || v.doubleValue() < best.valLoss())) {
                best = new Best(((Number) r.get("step")).longValue(), v.doubleValue());
            }
        }
        return best;
    }

    private static long bestFileStep(Path dir) {
        return Long.parseLong(Safetensors.read(dir.resolve("best.safetensors")).metadata().get("step"));
    }

    @Test
    void theRunStopsEarlyKeepsTheBestModelAndResumesBitwise() throws IOException {
        Path cfg = TestFiles.yaml(tmp, "c", NOISY);
        Path whole = tmp.resolve("whole");
        Cli run = Cli.run("train", cfg.toString(), "--out", whole.toString());
        assertEquals(0, run.exitCode(), "an early stop is a finished run");
        List<Map<String, Object>> metrics = MetricsLog.read(whole.resolve("metrics.jsonl"));
        long end = ((Number) metrics.getLast().get("step")).longValue();
        Best best = lowestValLoss(whole);
        System.out.printf("stopped early at step %d of 400; lowest val_loss %.6g at step %d; best.safetensors of step %d%n",
                end, best.valLoss(), best.step(), bestFileStep(whole));
        assertTrue(end < 400, "the run stopped early");
        assertEquals(best.step() + 3 * 5, end, "3 evals (every 5 steps) without a lower val_loss");
        assertEquals(best.step(), bestFileStep(whole));
        RunState state = RunState.load(whole);
        assertTrue(state.earlyStopped());
        assertEquals(end, state.step(), "the early stop's step has the final checkpoint");
        TestTexts.assertContains(run.out(), "stopped early at step " + end + " of 400", "(train.early_stop); the run is done");
        String summary = Files.readString(whole.resolve("summary.md"));
        TestTexts.assertContains(summary, "| steps | " + end + " (stopped early: train.early_stop 3 evals",
                String.format(java.util.Locale.ROOT, "| best held-out exact SM loss | %.6g at step %d (best.safetensors) |",
                        best.valLoss(), best.step()));
        assertTrue(Files.size(whole.resolve("fisher.png")) > 1000);

        Cli again = Cli.run("train", "--resume", whole.toString());
        assertEquals(2, again.exitCode());
        TestTexts.assertContains(again.err(), "stopped early at step " + end, "is done; nothing to resume");

        // stopped about halfway (on an eval step: stop_after's own last-step eval would add a val_loss line), resumed:
        // the same early stop, best model and metrics
        Path parts = tmp.resolve("parts");
        long half = end / 10 * 5;
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", parts.toString(), "--set", "train.stop_after=" + half).exitCode());
        assertEquals(0, Cli.run("train", "--resume", parts.toString()).exitCode());
        assertTrue(RunState.load(parts).earlyStopped());
        assertArrayEquals(state.params(), RunState.load(parts).params(), 0.0);
        assertArrayEquals(MlpCheckpoint.load(whole.resolve("best.safetensors")).params(),
                MlpCheckpoint.load(parts.resolve("best.safetensors")).params(), 0.0);
        TrainCommandTest.assertMetricsEqual(whole, parts, (int) end);
    }

    /** File data: fisher.png draws the held-out SM loss against the Gaussian's, and the summary says which is lower. */
    @Test
    void fileDataGetsAHeldOutLossPlotAndAPlainComparisonWithTheGaussian() throws IOException {
        Path points = tmp.resolve("points.npy"); // two peaks: a single Gaussian is a poor fit
        assertEquals(0, Cli.run("data", "two-peaks", "--n", "3000", "--out", points.toString()).exitCode());
        Path dir = tmp.resolve("file");
        Cli run = Cli.run("train", TestFiles.yaml(tmp, "c", NOISY).toString(), "--out", dir.toString(), "--set", "data.name=file",
                "--set", "data.path=" + points, "--set", "train.steps=400", "--set", "train.early_stop=0", "--set", "optimizer.lr=0.003",
                "--set", "train.batch_size=128", "--set", "model.hidden=[32,32]", "--set", "train.eval_every=100");
        assertEquals(0, run.exitCode());
        String summary = Files.readString(dir.resolve("summary.md"));
        System.out.println(summary);
        TestTexts.assertContains(summary, "| moment-matched Gaussian's held-out exact SM loss |",
                "| model vs Gaussian | the model beats the moment-matched Gaussian: held-out exact SM loss");
        assertTrue(Files.size(dir.resolve("fisher.png")) > 1000, "fisher.png is written for file data too");
        assertTrue(Files.exists(dir.resolve("best.safetensors")));
    }
}
