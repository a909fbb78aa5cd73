package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.TestNets;
import ebm.TestTexts;
import ebm.io.MlpCheckpoint;
import ebm.model.Mlp;
import ebm.train.Export;
import ebm.train.RunState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * train.ema: the state keeps the raw parameters and their EMA (ema ← d·ema + (1 − d)·θ after every optimizer step,
 * from the initial parameters), and the checkpoints hold the EMA. train.accumulate is refused on the CUDA backends.
 */
class WeightEmaTest {
    @TempDir
    Path tmp;

    private static final double DECAY = 0.8;
    private static final String RUN = TestFiles.twoPeaks(9, 1000, 200, "{hidden: [12, 8], activation: silu}", "{name: adamw, lr: 0.05}",
            "{steps: 30, batch_size: 32, eval_every: 10, checkpoint_every: 10, ema: 0.8}");

    private RunState stateAfter(int steps) throws IOException {
        Path dir = tmp.resolve("after" + steps);
        assertEquals(0, Cli.run("train", TestFiles.yaml(tmp, "c", RUN).toString(), "--out", dir.toString(), "--set",
                "train.stop_after=" + steps).exitCode());
        return RunState.load(dir);
    }

    private static double[] emaStep(double[] ema, double[] params) {
        double[] next = new double[ema.length];
        for (int i = 0; i < ema.length; i++) next[i] = DECAY * ema[i] + (1 - DECAY) * params[i];
        return next;
    }

    @Test
    void theEmaFollowsTheRawParametersAndIsWhatTheCheckpointHolds() throws IOException {
        RunState one = stateAfter(1), nine = stateAfter(9), ten = stateAfter(10);
        Mlp mlp = new Mlp(MlpCheckpoint.load(tmp.resolve("after10/checkpoint.safetensors")).spec());
        double[] initial = mlp.initialParams(9);
        assertArrayEquals(emaStep(initial, one.params()), one.ema(), 0.0, "step 1: from the initial parameters");
        assertArrayEquals(emaStep(nine.ema(), ten.params()), ten.ema(), 0.0, "step 10 from step 9");
        double apart = TestNets.relativeError(ten.ema(), ten.params());
        System.out.printf("EMA (decay %.1f) after 10 steps vs the raw parameters: relative difference %.3g; ema_10 = d·ema_9 + "
                + "(1 − d)·θ_10 bit for bit%n", DECAY, apart);
        assertTrue(apart > 1e-3, "the EMA lags the raw parameters");
        double[] exportedEma = Export.params(mlp, ten.ema(), null, null, 1.0);
        assertArrayEquals(exportedEma, MlpCheckpoint.load(tmp.resolve("after10/checkpoint.safetensors")).params(), 0.0);
        assertArrayEquals(exportedEma, MlpCheckpoint.load(tmp.resolve("after10/best.safetensors")).params(), 0.0,
                "step 10 is the only eval, so the best model is the EMA of step 10");
        TestTexts.assertContains(Files.readString(tmp.resolve("after10/summary.md")), "EMA of the weights, decay 0.8 (train.ema)");
        assertFalse(java.util.Arrays.equals(exportedEma, Export.params(mlp, ten.params(), null, null, 1.0)));
    }

    @Test
    void accumulationOnTheCudaBackendsIsAOneLineError() throws IOException {
        for (String backend : new String[] {"cuda", "cuda-emulated"}) {
            Path dir = tmp.resolve(backend);
            Cli r = Cli.run("train", TestFiles.yaml(tmp, "c", RUN).toString(), "--out", dir.toString(), "--set", "backend=" + backend,
                    "--set", "train.accumulate=4");
            assertEquals(2, r.exitCode());
            TestTexts.assertContains(r.err(), "train.accumulate: 4 needs backend cpu; backend " + backend
                    + " runs the whole batch in one step (set train.accumulate: 1)");
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(dir));
        }
    }
}
