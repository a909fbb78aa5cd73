package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.io.MlpCheckpoint;
import ebm.io.Npy;
import ebm.io.Safetensors;
import ebm.train.MetricsLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** `ebm train` as a user runs it: outputs, exact resume, and one-line errors for bad configs and data. */
class TrainCommandTest {
    @TempDir
    Path tmp;

    private Path config(String yaml) throws IOException {
        return TestFiles.yaml(tmp, "c", yaml);
    }

    private static final String SMALL = """
            seed: 3
            data: {name: two-peaks, n_train: 2000, n_val: 300}
            model: {hidden: [16, 12], activation: silu}
            train: {steps: 30, batch_size: 64, eval_every: 10, checkpoint_every: 10, schedule: cosine, warmup: 3}
            """;

    private static double[] stateParams(Path dir) {
        return Safetensors.read(dir.resolve("state.safetensors")).tensors().get("params").data();
    }

    /** Bitwise resume, also with the weights' EMA, gradient accumulation and early stopping's state (train.*) on. */
    @ParameterizedTest(name = "{0} + {1} {2}")
    @CsvSource({"exact, adamw, ''", "sliced, shampoo, ''", "hutchinson, muon, ''", "annealed-denoising, sgd, ''",
        "exact, adamw, train.ema=0.9 train.accumulate=4 train.early_stop=5",
        "denoising, muon, train.ema=0.5 train.accumulate=2"})
    void aRunStoppedAndResumedEndsBitwiseWhereAnUninterruptedOneEnds(String objective, String optimizer, String sets)
            throws IOException {
        Path cfg = config(SMALL + "objective: {name: " + objective + ", probes: 2}\noptimizer: {name: " + optimizer
                + ", lr: 0.01" + (optimizer.equals("sgd") ? ", momentum: 0.9, nesterov: true" : "") + "}\n");
        List<String> extra = new ArrayList<>();
        for (String set : sets.isBlank() ? new String[0] : sets.split(" ")) extra.addAll(List.of("--set", set));
        Path whole = tmp.resolve("whole"), parts = tmp.resolve("parts");
        assertEquals(0, Cli.run(args("train", cfg.toString(), "--out", whole.toString(), extra)).exitCode());
        extra.addAll(List.of("--set", "train.stop_after=20"));
        assertEquals(0, Cli.run(args("train", cfg.toString(), "--out", parts.toString(), extra)).exitCode());
        assertEquals(20, MetricsLog.read(parts.resolve("metrics.jsonl")).size());
        // A crash after step 20's checkpoint leaves extra metric lines behind; resume must cut them.
        Files.writeString(parts.resolve("metrics.jsonl"), "{\"step\": 21, \"loss\": 0}\n{\"step\": 22, \"lo",
                java.nio.file.StandardOpenOption.APPEND);
        String threads = System.getProperty("ebm.threads");
        System.setProperty("ebm.threads", "1");
        try {
            assertEquals(0, Cli.run("train", "--resume", parts.toString()).exitCode());
        } finally {
            if (threads == null) System.clearProperty("ebm.threads");
            else System.setProperty("ebm.threads", threads);
        }
        double[] a = stateParams(whole), b = stateParams(parts);
        System.out.printf("%s + %s %s: uninterrupted vs resumed parameters, %d values, first %.17g vs %.17g%n",
                objective, optimizer, sets, a.length, a[0], b[0]);
        assertArrayEquals(a, b, 0.0);
        assertArrayEquals(MlpCheckpoint.load(whole.resolve("checkpoint.safetensors")).params(),
                MlpCheckpoint.load(parts.resolve("checkpoint.safetensors")).params(), 0.0);
        assertArrayEquals(MlpCheckpoint.load(whole.resolve("best.safetensors")).params(),
                MlpCheckpoint.load(parts.resolve("best.safetensors")).params(), 0.0);
        assertMetricsEqual(whole, parts, 30);
        Object resumedCosine = MetricsLog.read(parts.resolve("metrics.jsonl")).get(20).get("update_cosine");
        System.out.println("update_cosine of step 21, the first resumed step: " + resumedCosine);
        assertTrue(resumedCosine instanceof Number, "the first resumed step has an update cosine");
    }

    private static String[] args(String command, String config, String outFlag, String out, List<String> extra) {
        List<String> all = new ArrayList<>(List.of(command, config, outFlag, out));
        all.addAll(extra);
        return all.toArray(new String[0]);
    }

    /**
     * Every metric of every step (update_cosine and the eval keys included) the same bit for bit, but the wall time;
     * steps 1..n in order.
     */
    static void assertMetricsEqual(Path whole, Path parts, int n) {
        List<Map<String, Object>> want = MetricsLog.read(whole.resolve("metrics.jsonl")), got = MetricsLog.read(parts.resolve("metrics.jsonl"));
        assertEquals(n, want.size());
        assertEquals(n, got.size());
        int compared = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(i + 1, ((Number) got.get(i).get("step")).longValue());
            Map<String, Object> w = new java.util.LinkedHashMap<>(want.get(i)), g = new java.util.LinkedHashMap<>(got.get(i));
            w.remove("seconds");
            g.remove("seconds");
            assertEquals(w, g, "step " + (i + 1) + " metrics");
            compared += w.size();
        }
        System.out.printf("metrics of %d steps (%d values, seconds left out) equal between the uninterrupted and the resumed run%n",
                n, compared);
    }

    @Test
    void aRunFolderHasEverythingTheReadmePromises() throws IOException {
        Path dir = tmp.resolve("run");
        assertEquals(0, Cli.run("train", config(SMALL).toString(), "--out", dir.toString()).exitCode());
        for (String f : new String[] {"config.yaml", "metrics.jsonl", "checkpoint.safetensors", "state.safetensors",
                "summary.md", "loss.png", "fisher.png", "energy.png", "score.png"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        Map<String, Object> last = MetricsLog.read(dir.resolve("metrics.jsonl")).getLast();
        for (String k : new String[] {"step", "loss", "grad_norm", "update_norm", "lr", "seconds", "val_loss", "fisher_divergence"}) {
            assertTrue(last.containsKey(k), k);
        }
        assertTrue(Files.readString(dir.resolve("summary.md")).contains("moment-matched Gaussian"));
        Cli s = Cli.run("sample", dir.toString(), "--n", "200", "--steps", "50", "--step-size", "0.01");
        assertEquals(0, s.exitCode());
        Path sampled = dir.resolve("samples/001-n200-s50-eps0.01");
        assertEquals(200, Npy.read(sampled.resolve("samples.npy")).rows());
        assertTrue(Files.exists(sampled.resolve("samples.png")));
        assertTrue(Files.readString(sampled.resolve("summary.md")).contains("MMD²"));
        Cli again = Cli.run("train", config(SMALL).toString(), "--out", dir.toString());
        assertEquals(2, again.exitCode());
        assertTrue(again.err().contains("already holds a run"), again.err());
    }

    @Test
    void aNonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint() throws IOException {
        Path dir = tmp.resolve("nan");
        Cli r = Cli.run("train", config(SMALL).toString(), "--out", dir.toString(), "--set", "optimizer.name=sgd",
                "--set", "optimizer.lr=1e200", "--set", "train.checkpoint_every=1", "--set", "train.warmup=0");
        assertEquals(3, r.exitCode(), "a diverged run exits 3");
        assertTrue(r.err().contains("non-finite") && r.err().contains("at step") && r.err().contains("checkpoint.safetensors"), r.err());
        assertTrue(Files.exists(dir.resolve("checkpoint.safetensors")));
        MlpCheckpoint.load(dir.resolve("checkpoint.safetensors")); // still a valid checkpoint
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "optimizer.lrr=0.1          | unknown key 'optimizer.lrr'; allowed under 'optimizer':",
        "model.activation=relu      | unknown activation 'relu'; allowed: softplus, silu, tanh, gelu_tanh",
        "model.hidden=[16,0]        | model.hidden[1]: widths must be positive, got 0",
        "model.hidden=[16,-4]       | model.hidden[1]: widths must be positive, got -4",
        "optimizer.lr=fast          | 'optimizer.lr' has the wrong type: got 'fast', expected a number",
        "optimizer.lr=-1            | optimizer.lr: must be > 0, got -1.0",
        "objective.name=exactly     | objective.name: 'exactly' is not allowed; allowed: exact, hutchinson, sliced",
        "train.batch_size=0         | train.batch_size: must be >= 1, got 0",
        "data.name=spiral           | unknown data source 'spiral'; known: two-peaks, 8gaussians",
        "backend=tpu                | backend: 'tpu' is not allowed; allowed: cpu, cuda, cuda-emulated",
        "precision=fp16             | precision: 'fp16' is not allowed; allowed: fp32, tf32, bf16",
        "train.steps=20.5           | 'train.steps' has the wrong type: got '20.5', expected an integer",
        "model.hidden=[16.5,12]     | 'model.hidden[0]' has the wrong type: got '16.5', expected an integer",
        "seed=1.5                   | 'seed' has the wrong type: got '1.5', expected an integer",
        "train.warmup=31            | train.warmup: must be <= train.steps (30), got 31",
        "train.batch_size=2001      | train.batch_size: must be <= data.n_train (2000), got 2001",
        "train.accumulate=5         | train.accumulate: train.batch_size (64) must be divisible by train.accumulate (5)",
        "train.accumulate=0         | train.accumulate: must be >= 1, got 0",
        "train.ema=1                | train.ema: must be in [0.0, 1.0), got 1.0",
        "train.ema=-0.1             | train.ema: must be in [0.0, 1.0), got -0.1",
        "train.early_stop=-1        | train.early_stop: must be >= 0, got -1",
        "train.schedule_steps=2     | train.warmup: must be <= train.schedule_steps (2), got 3",
        "precision=tf32             | precision: tf32 selects the GEMM mode of backend cuda or cuda-emulated; backend cpu computes in fp64"})
    void badConfigValuesAreOneLineErrorsNamingTheKey(String override, String expected) throws IOException {
        Path dir = tmp.resolve("bad");
        Cli r = Cli.run("train", config(SMALL).toString(), "--out", dir.toString(), "--set", override);
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains(expected.strip()), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(dir), "nothing is written for a bad config");
    }

    @Test
    void badUserDataIsAnErrorNamingTheFileAndRow() throws IOException {
        Path npy = TestFiles.npyWithOne(tmp.resolve("points.npy"), 10, 2, 13, Double.POSITIVE_INFINITY);
        Path csv = tmp.resolve("points.csv");
        Files.writeString(csv, "a,b\n1,2\n3,x\n");
        Path empty = tmp.resolve("empty.csv");
        Files.writeString(empty, "");
        String[][] cases = {
            {npy.toString(), "row 6, column 1"},
            {csv.toString(), "line 3"},
            {empty.toString(), "empty"},
            {tmp.resolve("missing.npy").toString(), "missing.npy"}};
        for (String[] c : cases) {
            Cli r = Cli.run("train", config(SMALL).toString(), "--out", tmp.resolve("run-bad").toString(), "--set",
                    "data.path=" + c[0], "--set", "data.name=file");
            assertEquals(2, r.exitCode());
            assertTrue(r.err().contains(Path.of(c[0]).getFileName().toString()) && r.err().contains(c[1]), r.err());
            assertFalse(Files.exists(tmp.resolve("run-bad")), "nothing is written for bad input");
        }
    }

    @Test
    void aGivenGaussianOrMixtureTrainsAndBadParametersAreNamed() throws IOException {
        String base = """
                model: {hidden: [8]}
                train: {steps: 5, batch_size: 32, eval_every: 5, checkpoint_every: 5}
                """;
        Path gaussian = config(base + "data: {name: gaussian, mean: [1, -1], covariance: [[2, 0.5], [0.5, 1]], n_train: 200, n_val: 50}\n");
        Cli ok = Cli.run("train", gaussian.toString(), "--out", tmp.resolve("g").toString());
        assertEquals(0, ok.exitCode());
        assertTrue(ok.out().contains("D=2"), ok.out());
        Path mixture = config(base + "data: {name: mixture, weights: [1, 3], means: [[0, 0, 0], [2, 2, 2]], "
                + "covariances: [[[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]]], n_train: 200, n_val: 50}\n");
        assertEquals(0, Cli.run("train", mixture.toString(), "--out", tmp.resolve("m").toString()).exitCode());
        String[][] bad = {
            {"data.covariance=[[2, 0.4], [0.5, 1]]", "not symmetric"},
            {"data.covariance=[[1, 2], [2, 1]]", "not positive definite"},
            {"data.covariance=[[1, 0]]", "data.covariance must have 2 rows"},
            {"data.mean=[1, nan]", "data.mean"}};
        for (String[] b : bad) {
            Cli r = Cli.run("train", gaussian.toString(), "--out", tmp.resolve("bad-g").toString(), "--set", b[0]);
            assertEquals(2, r.exitCode());
            assertTrue(r.err().contains(b[1]), r.err());
        }
    }
}
