package ebm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's side of a termination signal, in-process and deterministic (the request comes while step 45 is
 * reported): the checkpoint of that step, the message, and a resume that ends bitwise where an uninterrupted run ends.
 * The real signal, in a subprocess, is in ebm.cli.RunRobustnessTest.
 */
class TrainerStopTest {
    @TempDir
    Path tmp;

    private static final String CONFIG = TestFiles.twoPeaks(5, 1000, 200, "{hidden: [12, 12], activation: silu}", "{name: adamw, lr: 0.01}",
            "{steps: 300, batch_size: 32, eval_every: 100, checkpoint_every: 100}");

    /** A console that plays the signal when the trainer reports the given step (Progress prints every 15 steps). */
    private static PrintStream signallingAt(String line, StopSignal signal, ByteArrayOutputStream sink) {
        return new PrintStream(sink, true, StandardCharsets.UTF_8) {
            @Override
            public void println(String s) {
                super.println(s);
                if (s.startsWith(line)) signal.requestAll();
            }
        };
    }

    @Test
    void aStopRequestEndsTheStepWithACheckpointAndResumesBitwise() throws IOException {
        RunConfig config = ConfigLoader.load(TestFiles.yaml(tmp, "c", CONFIG), List.of());
        Path whole = tmp.resolve("whole"), stopped = tmp.resolve("stopped");
        PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
        Trainer.start(config, whole, quiet, new StopSignal(false, System.err));

        StopSignal signal = new StopSignal(false, System.err);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TrainingStopped e = assertThrows(TrainingStopped.class,
                () -> Trainer.start(config, stopped, signallingAt("step 45/300", signal, out), signal));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("after step 45 of 300") && e.getMessage().contains("./ebm train --resume " + stopped),
                e.getMessage());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains(e.getMessage()), "the message is printed before the JVM goes");
        RunState state = RunState.load(stopped);
        assertEquals(45, state.step(), "the checkpoint is the step during which the signal came");
        assertEquals(45, MetricsLog.read(stopped.resolve(Trainer.METRICS)).size(), "metrics and checkpoint are of one step");
        assertEquals("45", ebm.io.Safetensors.read(stopped.resolve(Trainer.CHECKPOINT)).metadata().get("step"));
        assertTrue(!Files.exists(stopped.resolve("summary.md")), "a stopped run is not summarised as finished");

        Trainer.resume(stopped, quiet, new StopSignal(false, System.err));
        assertArrayEquals(RunState.load(whole).params(), RunState.load(stopped).params(), 0.0);
        assertEquals(300, MetricsLog.read(stopped.resolve(Trainer.METRICS)).size());
    }
}
