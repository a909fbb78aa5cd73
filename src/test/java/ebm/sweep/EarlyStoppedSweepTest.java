package ebm.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestTexts;
import ebm.cli.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A point that train.early_stop ended is done: reported early-stopped, counted as finished, skipped on a rerun. */
class EarlyStoppedSweepTest {
    @TempDir
    Path tmp;

    @Test
    void anEarlyStoppedPointIsDoneAndSkipped() throws IOException {
        Path sweep = tmp.resolve("sweep.yaml");
        Files.writeString(sweep, """
                base:
                  seed: 2
                  data: {name: two-peaks, n_train: 1000, n_val: 200}
                  model: {hidden: [12, 8]}
                  optimizer: {name: adamw, lr: 0.05}
                  train: {steps: 400, batch_size: 32, eval_every: 5, checkpoint_every: 15, early_stop: 3}
                grid:
                  seed: [2]
                """);
        Path dir = tmp.resolve("out");
        Cli first = Cli.run("sweep", sweep.toString(), "--out", dir.toString());
        assertEquals(0, first.exitCode());
        String status = SweepRunTest.column(dir, "status", 0), steps = SweepRunTest.column(dir, "steps_done", 0);
        System.out.println("early-stopped point: status " + status + ", steps_done " + steps);
        assertEquals("early-stopped", status);
        assertTrue(Integer.parseInt(steps) < 400, steps);
        TestTexts.assertContains(Files.readString(dir.resolve("runs/seed2/sweep-point.json")), "\"status\" : \"early-stopped\"");
        TestTexts.assertContains(first.out(), "seed2: early-stopped, " + steps + " steps");
        Cli again = Cli.run("sweep", sweep.toString(), "--out", dir.toString());
        assertEquals(0, again.exitCode());
        TestTexts.assertContains(again.out(), "seed2: finished, skipped");
    }
}
