package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.io.MlpCheckpoint;
import ebm.io.Npy;
import ebm.io.Safetensors;
import ebm.model.Mlp;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;
import ebm.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ebm sample` samples the exported ebm-mlp-v1 checkpoint (not the run state) in the data's original coordinates,
 * validates it first, and writes each sampling into a folder of its own with its own summary.
 */
class SampleCheckpointTest {
    @TempDir
    static Path tmp;
    private static Path trained;

    /** A small two-peak run, standardised so that model and original coordinates differ. */
    @BeforeAll
    static void train() throws IOException {
        Path cfg = tmp.resolve("small.yaml");
        trained = tmp.resolve("small");
        Files.writeString(cfg, """
                seed: 3
                backend: cpu
                data: {name: two-peaks, n_train: 2000, n_val: 400, standardize: true}
                model: {hidden: [16, 16], activation: softplus}
                objective: {name: exact}
                optimizer: {name: adamw, lr: 0.01}
                train: {steps: 150, batch_size: 128, eval_every: 150, checkpoint_every: 150}
                """);
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", trained.toString()).exitCode());
    }

    private static Path copyOfRun(String name) {
        return TestFiles.copyOfFolder(trained, tmp.resolve(name));
    }

    private static Set<String> files(Path dir) {
        return TestFiles.names(dir);
    }

    private static void assertOneLineError(Cli c, String... parts) {
        assertEquals(2, c.exitCode(), c.out() + c.err());
        for (String p : parts) assertTrue(c.err().contains(p), "missing '" + p + "' in: " + c.err());
        assertEquals(1, c.err().strip().lines().count(), c.err());
    }

    @Test
    void aCorruptOrMissingCheckpointIsAnErrorNamingTheFile() throws IOException {
        Path run = copyOfRun("corrupt");
        Path ckpt = run.resolve(Trainer.CHECKPOINT);
        Files.write(ckpt, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        assertOneLineError(Cli.run("sample", run.toString(), "--n", "10", "--steps", "3"), ckpt.toString());
        Files.delete(ckpt);
        assertOneLineError(Cli.run("sample", run.toString(), "--n", "10", "--steps", "3"), ckpt.toString(), "does not exist");
    }

    @Test
    void nonFiniteWeightsAreAnErrorNamingFileAndTensorNotTheStepSize() throws IOException {
        Path run = copyOfRun("nan");
        Path ckpt = run.resolve(Trainer.CHECKPOINT);
        Safetensors.Contents c = Safetensors.read(ckpt);
        List<Safetensors.Tensor> tensors = new ArrayList<>();
        for (Safetensors.Tensor t : c.tensors().values()) {
            double[] v = t.data().clone();
            if (t.name().equals("hidden.1.weight")) v[5] = Double.NaN;
            tensors.add(Safetensors.Tensor.of(t.name(), t.shape(), v));
        }
        Safetensors.write(ckpt, c.metadata(), tensors, Safetensors.F64);
        Cli s = Cli.run("sample", run.toString(), "--n", "10", "--steps", "3");
        assertOneLineError(s, ckpt.toString(), "hidden.1.weight", "non-finite");
        assertFalse(s.err().contains("step-size"), s.err());
    }

    @Test
    void theRunStateIsNotNeeded() throws IOException {
        Path run = copyOfRun("nostate");
        Files.write(run.resolve("state.safetensors"), new byte[] {0, 0, 0, 0, 0, 0, 0, 0}); // short, unreadable
        Cli s = Cli.run("sample", run.toString(), "--n", "20", "--steps", "5");
        assertEquals(0, s.exitCode(), s.err());
    }

    @Test
    void aBareCheckpointSamplesInItsOwnCoordinatesBesideTheFile() throws IOException {
        Path foreign = Files.createDirectories(tmp.resolve("foreign"));
        Path file = foreign.resolve("model.safetensors");
        Files.copy(trained.resolve(Trainer.CHECKPOINT), file); // only the checkpoint: no config, state or data
        int n = 40, steps = 30;
        double eps = 0.02;
        double[] start = new double[n * 2];
        for (int i = 0; i < start.length; i++) start[i] = (i % 2 == 0 ? 2.0 : 0.0) + 0.1 * Math.sin(i);
        Path init = tmp.resolve("init.npy");
        Npy.write(init, n, 2, start);
        Cli s = Cli.run("sample", "--checkpoint", file.toString(), "--init", init.toString(), "--steps", Integer.toString(steps),
                "--step-size", Double.toString(eps), "--seed", "9");
        assertEquals(0, s.exitCode(), s.err());
        assertTrue(s.out().contains("KSD²") && !s.out().contains("MMD²"), s.out());
        Path out = foreign.resolve("samples/001-n40-s30-eps0.02");
        assertEquals(Set.of("samples.npy", "summary.md"), files(out));
        String summary = Files.readString(out.resolve("summary.md"));
        assertTrue(summary.contains("only KSD² is reported") && !summary.contains("| MMD²"), summary);
        // The checkpoint's energy, in the data's original coordinates, with ε in those coordinates.
        MlpCheckpoint.Loaded loaded = MlpCheckpoint.load(file);
        double[] want = start.clone();
        Langevin.run(new Mlp(loaded.spec()), loaded.params(), want, n, new LangevinSchedule(steps, eps, null), 9, null);
        assertArrayEquals(want, Npy.read(out.resolve("samples.npy")).data(), 0.0);
        // With --data there is an MMD² too.
        Cli withData = Cli.run("sample", "--checkpoint", file.toString(), "--n", "30", "--steps", "5",
                "--data", init.toString());
        assertEquals(0, withData.exitCode(), withData.err());
        assertTrue(withData.out().contains("MMD²"), withData.out());
        assertTrue(Files.exists(foreign.resolve("samples/002-n30-s5-eps0.01/samples.png")));
        assertOneLineError(Cli.run("sample", "--checkpoint", file.toString(), "--n", "10", "--steps", "3", "--annealed"),
                "--sigma-max");
        Cli annealed = Cli.run("sample", "--checkpoint", file.toString(), "--n", "10", "--steps", "6", "--annealed",
                "--sigma-max", "1", "--sigma-min", "0.1", "--levels", "3");
        assertEquals(0, annealed.exitCode(), annealed.err());
    }

    @Test
    void eachSamplingGetsItsOwnFolderAndSummary() throws IOException {
        Path run = copyOfRun("twice");
        String runSummary = Files.readString(run.resolve("summary.md"));
        Cli a = Cli.run("sample", run.toString(), "--n", "50", "--steps", "20");
        Cli b = Cli.run("sample", run.toString(), "--n", "60", "--steps", "20", "--warmup", "10");
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(0, b.exitCode(), b.err());
        assertEquals(runSummary, Files.readString(run.resolve("summary.md")), "the run's summary is left alone");
        assertFalse(Files.exists(run.resolve("samples.npy")));
        assertEquals(Set.of("001-n50-s20-eps0.01", "002-n60-s30-eps0.01"), files(run.resolve("samples")));
        for (String f : List.of("001-n50-s20-eps0.01", "002-n60-s30-eps0.01")) {
            assertEquals(Set.of("samples.npy", "samples.png", "summary.md"), files(run.resolve("samples").resolve(f)));
        }
        assertEquals(60, Npy.read(run.resolve("samples/002-n60-s30-eps0.01/samples.npy")).rows());
        String summary = Files.readString(run.resolve("samples/001-n50-s20-eps0.01/summary.md"));
        assertTrue(summary.contains("MMD²") && summary.contains("KSD²") && summary.contains("can be")
                && summary.contains("negative") && summary.contains("does not prove"), summary);
        assertFalse(summary.contains("warning"), summary);
        Path explicit = tmp.resolve("explicit-out");
        assertEquals(0, Cli.run("sample", run.toString(), "--n", "20", "--steps", "5", "--out", explicit.toString()).exitCode());
        assertTrue(Files.exists(explicit.resolve("samples.npy")));
    }

    @Test
    void chainsFarOutsideTheDataAreWarnedAbout() throws IOException {
        Path run = copyOfRun("escape");
        Cli s = Cli.run("sample", run.toString(), "--n", "50", "--steps", "20", "--step-size", "1e6");
        assertEquals(0, s.exitCode(), s.err());
        assertTrue(s.out().contains("warning:") && s.out().contains("escaped"), s.out());
        Path dir = run.resolve("samples/001-n50-s20-eps1000000.0");
        String summary = Files.readString(dir.resolve("summary.md"));
        assertTrue(summary.contains("warning:") && summary.contains("beyond 10×"), summary);
        // Without data the starting points give the range.
        Cli bare = Cli.run("sample", "--checkpoint", run.resolve(Trainer.CHECKPOINT).toString(), "--n", "50", "--steps", "20",
                "--step-size", "1e6", "--out", tmp.resolve("escape-bare").toString());
        assertEquals(0, bare.exitCode(), bare.err());
        assertTrue(bare.out().contains("the starting points' range"), bare.out());
    }
}
