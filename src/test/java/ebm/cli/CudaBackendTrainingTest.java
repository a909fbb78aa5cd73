package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.HostKernelLibrary;
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
        String[] steps = {"--set", "train.steps=30", "--set", "train.eval_every=30", "--set", "train.checkpoint_every=30"};
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
            double tolerance = ebm.backend.cuda.StepParityChecks.objectiveTolerance(ebm.backend.cuda.CudaBackends.precision(precision));
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

    @Test
    void aStoppedCudaRunResumesWhereAnUninterruptedOneEnds() throws IOException {
        Path cfg = tmp.resolve("c.yaml");
        Files.writeString(cfg, """
                seed: 5
                backend: cuda-emulated
                data: {name: two-peaks, n_train: 2000, n_val: 300}
                model: {hidden: [16, 12], activation: softplus}
                objective: {name: sliced, probes: 2}
                optimizer: {name: muon, lr: 0.02}
                train: {steps: 30, batch_size: 64, eval_every: 10, checkpoint_every: 10, schedule: cosine, warmup: 3}
                """);
        Path whole = tmp.resolve("whole"), parts = tmp.resolve("parts");
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", whole.toString()).exitCode());
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", parts.toString(), "--set", "train.stop_after=20").exitCode());
        assertEquals(0, Cli.run("train", "--resume", parts.toString()).exitCode());
        double[] a = Safetensors.read(whole.resolve("state.safetensors")).tensors().get("params").data();
        double[] b = Safetensors.read(parts.resolve("state.safetensors")).tensors().get("params").data();
        System.out.printf("cuda-emulated sliced + muon: uninterrupted vs resumed, %d parameters, first %.9g vs %.9g; "
                + "step-30 loss %.9g vs %.9g%n", a.length, a[0], b[0], losses(whole).get(29), losses(parts).get(29));
        assertArrayEquals(a, b, 0.0);
        assertEquals(losses(whole), losses(parts));
        Map<String, Object> last = MetricsLog.read(parts.resolve("metrics.jsonl")).getLast();
        assertEquals(30L, ((Number) last.get("step")).longValue());
    }

    @Test
    void whatTheCudaBackendCannotRunIsAnErrorNamingIt() {
        Cli r = Cli.run("train", "configs/quickstart.yaml", "--out", tmp.resolve("x").toString(), "--set",
                "backend=cuda-emulated", "--set", "optimizer.name=shampoo");
        System.out.println(r.err().strip());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("optimizer.name: shampoo is not available on backend cuda"), r.err());
        assertTrue(!Files.exists(tmp.resolve("x").resolve("metrics.jsonl")), "nothing trained");
    }
}
