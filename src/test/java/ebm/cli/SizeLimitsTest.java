package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ebm.HeapLimits;
import ebm.TestFiles;
import ebm.TestTexts;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Sizes and values a command cannot work with end in one line naming the flag or key, the value and the limit, exit
 * 2, and leave nothing behind — not a NegativeArraySizeException, an OutOfMemoryError or a half-made run folder.
 */
class SizeLimitsTest {
    @TempDir
    static Path tmp;
    private static Path config;
    private static Path trained;

    private static final String SMALL = """
            seed: 3
            data: {name: two-peaks, n_train: 2000, n_val: 300}
            model: {hidden: [16, 12], activation: silu}
            train: {steps: 10, batch_size: 64, eval_every: 10, checkpoint_every: 10, warmup: 0}
            """;

    @BeforeAll
    static void trainSmall() throws IOException {
        config = TestFiles.yaml(tmp, "small", SMALL);
        trained = tmp.resolve("trained");
        assertEquals(0, Cli.run("train", config.toString(), "--out", trained.toString()).exitCode());
    }

    /** Exit 2 and one line holding every part. */
    private static void assertOneLineError(Cli r, String... parts) {
        assertEquals(2, r.exitCode(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        TestTexts.assertContains(r.err(), parts);
    }

    @Test
    void aStepSizeThatIsNotAFinitePositiveNumberIsRefusedByName() {
        for (String bad : new String[] {"Infinity", "-Infinity", "NaN", "0", "-0.5"}) {
            Cli r = Cli.run("sample", trained.toString(), "--step-size", bad, "--steps", "2");
            assertOneLineError(r, "--step-size: must be a finite number > 0", "got " + Double.parseDouble(bad));
        }
        assertFalse(Files.exists(trained.resolve("samples")), "a refused sampling writes no folder");
    }

    @Test
    void moreDataPointsThanAnArrayHoldsNameTheKeyAndTheLimit() {
        Path out = tmp.resolve("x.npy");
        assertOneLineError(Cli.run("data", "moons", "--n", "2000000000", "--out", out.toString()),
                "--n = 2000000000 at D = 2 is 4000000000 numbers, more than one Java array holds (2147483639)",
                "at most 1073741819 rows at D = 2");
        assertFalse(Files.exists(out));
        Path dir = tmp.resolve("huge-data");
        assertOneLineError(Cli.run("train", config.toString(), "--out", dir.toString(), "--set", "data.n_train=2000000000"),
                "data.n_train = 2000000000 at D = 2 is 4000000000 numbers", "reduce data.n_train");
        assertFalse(Files.exists(dir), "nothing written for a refused run");
        assertOneLineError(Cli.run("sample", trained.toString(), "--n", "2000000000", "--steps", "1"),
                "--n = 2000000000 at D = 2 is 4000000000 numbers");
    }

    @Test
    void aModelTooLargeForTheHeapIsRefusedBeforeTheRunFolderExists() {
        Path wide = tmp.resolve("wide");
        // 10^10 parameters: more than a Java array holds (the parameter layout's int offsets would overflow)
        assertOneLineError(Cli.run("train", config.toString(), "--out", wide.toString(), "--set", "model.hidden=[100000,100000]"),
                "model.hidden = [100000, 100000] at D = 2 has 10000500001 parameters, more than one Java array holds",
                "reduce model.hidden");
        assertFalse(Files.exists(wide));
        // 900 150 001 parameters (2·30000 + 30000, 30000² + 30000, 30000 + 1) fit an array, but AdamW's 7 copies of
        // them (56 bytes each: 50 408 400 056) and the exact trace's activations (60000 units × 4 values × 3 directions
        // × 64 samples × 8 bytes: 368 640 000) are 50.8 GB, more than the heap a test JVM is given here
        long heap = HeapLimits.maxHeap();
        org.junit.jupiter.api.Assumptions.assumeTrue(heap < 50_000_000_000L, "skipped: a heap of " + heap + " bytes holds it");
        Path large = tmp.resolve("large");
        assertOneLineError(Cli.run("train", config.toString(), "--out", large.toString(), "--set", "model.hidden=[30000,30000]"),
                "model.hidden = [30000, 30000] at D = 2 has 900150001 parameters", "the run needs at least 50.8 GB of memory",
                "(7 parameter-sized buffers: 50.4 GB; batch activations: 368.6 MB)",
                "the JVM's heap is " + HeapLimits.bytes(heap), "reduce model.hidden or train.batch_size", "EBM_HEAP");
        assertFalse(Files.exists(large));
    }

    @CommandLine.Command(name = "exhaust")
    static final class Exhausting implements Callable<Integer> {
        @CommandLine.Option(names = "--in-worker")
        boolean inWorker;

        @Override
        public Integer call() {
            OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
            if (inWorker) throw new RuntimeException("a worker failed", oom); // how a thread pool hands it on
            throw oom;
        }
    }

    @Test
    void anOutOfMemoryErrorAtTheCommandBoundaryIsOneLine() {
        for (String[] args : new String[][] {{"exhaust"}, {"exhaust", "--in-worker"}}) {
            StringWriter err = new StringWriter();
            CommandLine cl = Main.commandLine();
            cl.addSubcommand(new Exhausting());
            int code = cl.setErr(new PrintWriter(err, true)).execute(args);
            System.out.println(String.join(" ", args) + " -> exit " + code + ", stderr: " + err.toString().strip());
            assertOneLineError(new Cli(code, "", err.toString()), "ebm: out of memory (Java heap space) with a JVM heap of "
                    + HeapLimits.bytes(HeapLimits.maxHeap()), "reduce the sizes of the run (model.hidden", "EBM_HEAP");
        }
    }
}
