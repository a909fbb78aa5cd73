package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.HostKernelLibrary;
import ebm.io.Safetensors;
import ebm.train.MetricsLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend's training path as a user runs it, through its host build (backend: cuda-emulated): the README's
 * quickstart follows the CPU run step by step, and a stopped run resumes where an uninterrupted one ends. On a GPU,
 * bench/gpu-check.sh's `parity` stage makes the same comparison with backend: cuda.
 */
class CudaBackendTrainingTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void needsHostBuild() {
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
    }

    private static List<Double> losses(Path dir) {
        return MetricsLog.read(dir.resolve("metrics.jsonl")).stream().map(r -> ((Number) r.get("loss")).doubleValue()).toList();
    }

    @Test
    void quickstartOnTheCudaPathFollowsTheCpuRunForAHundredSteps() {
        Path cpu = tmp.resolve("cpu"), cuda = tmp.resolve("cuda");
        assertEquals(0, Cli.run("train", "configs/quickstart.yaml", "--out", cpu.toString(), "--set", "train.steps=100").exitCode());
        assertEquals(0, Cli.run("train", "configs/quickstart.yaml", "--out", cuda.toString(), "--set", "train.steps=100",
                "--set", "backend=cuda-emulated").exitCode());
        List<Double> a = losses(cpu), b = losses(cuda);
        assertEquals(100, b.size());
        // Relative to max(|loss|, the run's mean |loss|): the loss crosses zero near step 4.
        double scale = a.stream().mapToDouble(Math::abs).average().orElseThrow();
        double worst = 0;
        int worstStep = 0;
        for (int i = 0; i < a.size(); i++) {
            double e = Math.abs(b.get(i) - a.get(i)) / Math.max(Math.abs(a.get(i)), scale);
            if (!(e <= worst)) {
                worst = e;
                worstStep = i + 1;
            }
        }
        System.out.printf("quickstart, 100 steps, cuda-emulated fp32 vs cpu fp64: worst per-step loss difference %.2e at "
                + "step %d (%.9g vs %.9g); step 100: %.9g vs %.9g%n", worst, worstStep, b.get(worstStep - 1), a.get(worstStep - 1),
                b.get(99), a.get(99));
        assertTrue(worst <= 1e-3, "per-step loss differs by " + worst);
    }

    @Test
    void tf32AndBf16GemmsTrainTheQuickstartCloseToTheCpuRun() throws IOException {
        Path cpu = tmp.resolve("cpu");
        String[] steps = {"--set", "train.steps=30", "--set", "train.warmup=3", "--set", "train.eval_every=30", "--set", "train.checkpoint_every=30"};
        assertEquals(0, Cli.run(concat(new String[] {"train", "configs/quickstart.yaml", "--out", cpu.toString()}, steps)).exitCode());
        List<Double> want = losses(cpu);
        double scale = want.stream().mapToDouble(Math::abs).average().orElseThrow();
        for (String precision : List.of("tf32", "bf16")) {
            Path dir = tmp.resolve(precision);
            assertEquals(0, Cli.run(concat(new String[] {"train", "configs/quickstart.yaml", "--out", dir.toString(), "--set",
                    "backend=cuda-emulated", "--set", "precision=" + precision}, steps)).exitCode());
            assertTrue(Files.readString(dir.resolve("config.yaml")).contains("precision: " + precision), "resolved config names it");
            List<Double> got = losses(dir);
            double worst = 0;
            for (int i = 0; i < want.size(); i++) worst = Math.max(worst, Math.abs(got.get(i) - want.get(i)) / Math.max(Math.abs(want.get(i)), scale));
            double tolerance = ebm.backend.cuda.parity.StepParityChecks.objectiveTolerance(ebm.backend.cuda.step.CudaBackends.precision(precision));
            System.out.printf("quickstart, 30 steps, cuda-emulated %s vs cpu fp64: worst per-step loss difference %.2e "
                    + "(tolerance %.0e); step 30: %.9g vs %.9g%n", precision, worst, tolerance, got.getLast(), want.getLast());
            assertTrue(worst <= tolerance, precision + ": per-step loss differs by " + worst);
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The same config trained into {@code whole} uninterrupted and into {@code parts} stopped after step 20, then resumed. */
    private record Runs(Path whole, Path parts) {}

    /** A small cuda-emulated run (30 steps, checkpoints every 10) of the objective and optimizer sections given. */
    private Runs trainWholeAndResumed(String file, int seed, String objective, String optimizer) throws IOException {
        return trainWholeAndResumed(file, seed, objective, optimizer, 0);
    }

    /** As above, with train.ema = ema. */
    private Runs trainWholeAndResumed(String file, int seed, String objective, String optimizer, double ema) throws IOException {
        Path cfg = tmp.resolve(file);
        Files.writeString(cfg, """
                seed: %d
                backend: cuda-emulated
                data: {name: two-peaks, n_train: 2000, n_val: 300}
                model: {hidden: [16, 12], activation: softplus}
                objective: %s
                optimizer: %s
                train: {steps: 30, batch_size: 64, eval_every: 10, checkpoint_every: 10, schedule: cosine, warmup: 3, ema: %s}
                """.formatted(seed, objective, optimizer, ema));
        Path whole = tmp.resolve("whole"), parts = tmp.resolve("parts");
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", whole.toString()).exitCode());
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", parts.toString(), "--set", "train.stop_after=20").exitCode());
        assertEquals(0, Cli.run("train", "--resume", parts.toString()).exitCode());
        return new Runs(whole, parts);
    }

    @Test
    void aStoppedCudaRunResumesWhereAnUninterruptedOneEnds() throws IOException {
        Runs runs = trainWholeAndResumed("c.yaml", 5, "{name: sliced, probes: 2}", "{name: muon, lr: 0.02}", 0.9);
        Path whole = runs.whole(), parts = runs.parts();
        double[] a = Safetensors.read(whole.resolve("state.safetensors")).tensors().get("params").data();
        double[] b = Safetensors.read(parts.resolve("state.safetensors")).tensors().get("params").data();
        System.out.printf("cuda-emulated sliced + muon: uninterrupted vs resumed, %d parameters, first %.9g vs %.9g; "
                + "step-30 loss %.9g vs %.9g%n", a.length, a[0], b[0], losses(whole).get(29), losses(parts).get(29));
        assertArrayEquals(a, b, 0.0);
        assertEquals(losses(whole), losses(parts));
        // every metric, the first resumed step's update cosine (from the saved previous update) and the EMA's evals included
        TrainCommandTest.assertMetricsEqual(whole, parts, 30);
        assertTrue(MetricsLog.read(parts.resolve("metrics.jsonl")).get(20).get("update_cosine") instanceof Number);
        assertArrayEquals(Safetensors.read(whole.resolve("state.safetensors")).tensors().get("ema").data(),
                Safetensors.read(parts.resolve("state.safetensors")).tensors().get("ema").data(), 0.0);
        assertArrayEquals(ebm.io.MlpCheckpoint.load(whole.resolve("best.safetensors")).params(),
                ebm.io.MlpCheckpoint.load(parts.resolve("best.safetensors")).params(), 0.0);
    }

    @Test
    void shampooOnTheCudaPathFollowsTheCpuRunAndLogsTheSameDiagnostics() {
        // roots every 5 steps from step 5 (9 refreshes in 45 steps); quickstart's first layer is 64x2, so its L has rank
        // ≤ 2 per step and its first roots see a rank-deficient statistic
        String[] shampoo = {"--set", "train.steps=45", "--set", "train.warmup=5", "--set", "optimizer.name=shampoo", "--set", "optimizer.root_every=5",
                "--set", "optimizer.start_step=5"};
        Path cpu = tmp.resolve("cpu"), cuda = tmp.resolve("cuda");
        assertEquals(0, Cli.run(concat(new String[] {"train", "configs/quickstart.yaml", "--out", cpu.toString()}, shampoo)).exitCode());
        assertEquals(0, Cli.run(concat(new String[] {"train", "configs/quickstart.yaml", "--out", cuda.toString(), "--set",
                "backend=cuda-emulated"}, shampoo)).exitCode());
        List<Map<String, Object>> a = MetricsLog.read(cpu.resolve("metrics.jsonl")), b = MetricsLog.read(cuda.resolve("metrics.jsonl"));
        assertEquals(45, b.size());
        double scale = a.stream().mapToDouble(r -> Math.abs(((Number) r.get("loss")).doubleValue())).average().orElseThrow();
        double worstLoss = 0;
        int worstStep = 0;
        Map<String, Double> worstDiagnostic = new java.util.TreeMap<>();
        for (int i = 0; i < a.size(); i++) {
            Map<String, Object> ra = a.get(i), rb = b.get(i);
            double la = ((Number) ra.get("loss")).doubleValue(), lb = ((Number) rb.get("loss")).doubleValue();
            double e = Math.abs(lb - la) / Math.max(Math.abs(la), scale);
            if (!(e <= worstLoss)) {
                worstLoss = e;
                worstStep = i + 1;
            }
            for (String key : List.of("adam_v_spread", "shampoo_cond_left_max", "shampoo_cond_right_max", "shampoo_root_failures")) {
                assertEquals(ra.containsKey(key), rb.containsKey(key), key + " logged on one backend only at step " + (i + 1));
                if (!ra.containsKey(key)) continue;
                double va = ((Number) ra.get(key)).doubleValue(), vb = ((Number) rb.get(key)).doubleValue();
                double d = va == vb ? 0 : Math.abs(vb - va) / Math.abs(va);
                worstDiagnostic.merge(key, d, Math::max);
            }
        }
        Map<String, Object> last = b.getLast();
        System.out.printf("quickstart with shampoo, 45 steps, cuda-emulated fp32 vs cpu fp64: worst per-step loss difference %.2e "
                + "at step %d; step 45 loss %.9g vs %.9g; worst relative diagnostic differences %s; step 45 cond L %s, R %s%n",
                worstLoss, worstStep, ((Number) last.get("loss")).doubleValue(), ((Number) a.getLast().get("loss")).doubleValue(),
                worstDiagnostic, last.get("shampoo_cond_left_max"), last.get("shampoo_cond_right_max"));
        assertTrue(worstLoss <= 1e-3, "per-step loss differs by " + worstLoss);
        assertTrue(worstDiagnostic.keySet().containsAll(List.of("adam_v_spread", "shampoo_cond_left_max", "shampoo_root_failures")),
                "diagnostics logged: " + worstDiagnostic.keySet());
        assertEquals(0.0, worstDiagnostic.get("shampoo_root_failures"));
        assertTrue(worstDiagnostic.get("adam_v_spread") <= 1e-3, "adam_v_spread differs by " + worstDiagnostic.get("adam_v_spread"));
        // λmin of a statistic built from gradients that differ by δ (fp32 rounding, then the runs' drift: the loss differs
        // by ~4e-5 at step 45) moves by ~2δ√κ relative; κ reaches 5e8 here, so the condition numbers agree to a few 1e-2
        assertTrue(worstDiagnostic.get("shampoo_cond_left_max") <= 5e-2 && worstDiagnostic.get("shampoo_cond_right_max") <= 5e-2,
                "condition numbers differ by " + worstDiagnostic);
    }

    @Test
    void aStoppedShampooRunOnTheCudaPathResumesBitwise() throws IOException {
        // roots at steps 4, 7, ..., 19, 22, ...: the run stops between two refreshes and resumes with the saved roots
        Runs runs = trainWholeAndResumed("s.yaml", 3, "{name: exact}",
                "{name: shampoo, lr: 0.01, root_every: 3, start_step: 4, weight_decay: 0.01}");
        Path whole = runs.whole(), parts = runs.parts();
        Map<String, ebm.io.Safetensors.Tensor> a = Safetensors.read(whole.resolve("state.safetensors")).tensors();
        Map<String, ebm.io.Safetensors.Tensor> b = Safetensors.read(parts.resolve("state.safetensors")).tensors();
        System.out.printf("cuda-emulated exact + shampoo: uninterrupted vs resumed, %d tensors (%s); step-30 loss %.9g vs %.9g%n",
                a.size(), a.keySet(), losses(whole).get(29), losses(parts).get(29));
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) assertArrayEquals(a.get(name).data(), b.get(name).data(), 0.0, name);
        assertTrue(a.keySet().stream().anyMatch(k -> k.endsWith("left_root")), "the state holds Shampoo's roots: " + a.keySet());
        // every logged value but the wall clock, diagnostics included, is the same after the resume
        assertEquals(withoutTimingAndCosine(whole), withoutTimingAndCosine(parts));
    }

    @Test
    void aCpuShampooStateLoadsOnTheCudaPathAndComesBackUnderTheSameNames() {
        ebm.model.MlpSpec spec = new ebm.model.MlpSpec(3, new int[] {7, 5}, ebm.tape.Activation.TANH);
        ebm.model.Mlp model = new ebm.model.Mlp(spec);
        ebm.optim.OptimizerSpec config = new ebm.config.OptimizerConfig("shampoo", 0.01, null, null, null, null, null, null,
                null, null, null, null, 2, 2, 6, null).spec(); // max_precond_dim 6: hidden.0 (7x3) keeps only R
        ebm.optim.Optimizer cpu = ebm.optim.Optimizers.create(config, model.layout());
        double[] params = model.initialParams(TestSeeds.fixed("shampoo state: parameters", 4));
        java.util.SplittableRandom random = new java.util.SplittableRandom(TestSeeds.fixed("shampoo state: gradients", 5));
        for (int step = 0; step < 5; step++) {
            double[] grad = new double[params.length];
            for (int i = 0; i < grad.length; i++) grad[i] = random.nextGaussian();
            cpu.step(params, grad, 1.0);
        }
        Map<String, double[]> saved = cpu.state();
        try (ebm.backend.cuda.step.CudaBackends.Runtime runtime = ebm.backend.cuda.step.CudaBackends.open(ebm.config.BackendKind.CUDA_EMULATED);
             ebm.backend.cuda.step.CudaTrainingStep device = new ebm.backend.cuda.step.CudaTrainingStep(runtime.launcher(), runtime.blas(),
                     spec, new ebm.objective.ExactObjective(ebm.model.TraceAlgorithm.AUTO), config, 4, null, params)) {
            device.loadOptimizerState(saved);
            Map<String, double[]> back = device.optimizerState();
            System.out.printf("cpu shampoo state (%d entries) through the cuda path: %s%n", saved.size(), back.keySet());
            assertEquals(List.copyOf(saved.keySet()), List.copyOf(back.keySet()));
            for (String key : saved.keySet()) {
                double[] want = saved.get(key).clone();
                // fp64 on the device: counters, condition numbers, statistics; fp32: moments and roots
                boolean fp64 = key.endsWith("_stat") || want.length == 1;
                if (!fp64) for (int i = 0; i < want.length; i++) want[i] = (float) want[i];
                assertArrayEquals(want, back.get(key), 0.0, key);
            }
            assertTrue(!saved.containsKey("hidden.0.weight.left_stat") && saved.containsKey("hidden.0.weight.right_stat"));
        }
    }

    @Test
    void whatTheCudaBackendCannotRunIsAnErrorNamingIt() {
        Cli r = Cli.run("train", "configs/quickstart.yaml", "--out", tmp.resolve("x").toString(), "--set",
                "backend=cuda-emulated", "--set", "model.kind=quadratic");
        System.out.println(r.err().strip());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("model.kind: quadratic runs only on backend cpu"), r.err());
        assertTrue(!Files.exists(tmp.resolve("x").resolve("metrics.jsonl")), "nothing trained");
    }

    private static List<Map<String, Object>> withoutTimingAndCosine(Path dir) {
        return MetricsLog.read(dir.resolve("metrics.jsonl")).stream().map(r -> {
            Map<String, Object> m = new java.util.LinkedHashMap<>(r);
            m.remove("seconds");
            m.remove("update_cosine"); // the previous update is not saved: the first resumed step logs none (as on the cpu)
            return m;
        }).toList();
    }
}
