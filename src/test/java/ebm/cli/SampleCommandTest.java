package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.backend.cuda.runtime.HostKernelLibrary;
import ebm.backend.cuda.step.CudaBackends;
import ebm.backend.cuda.step.DeviceLangevin;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.io.Npy;
import ebm.model.Mlp;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;
import ebm.train.Components;
import ebm.train.Export;
import ebm.train.RunState;
import ebm.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ebm sample` on the CUDA code path through its host build (--backend cuda-emulated) against the fp64 CPU sampler,
 * on a model trained from the README's quickstart config: the device chain follows the CPU chain step by step, and
 * the command writes the same files with the same samples.
 */
class SampleCommandTest {
    @TempDir
    static Path tmp;
    private static Path trained;

    /** The quickstart model (2-D two peaks, MLP [64, 64], exact SM, AdamW), trained for 300 of its 1500 steps. */
    @BeforeAll
    static void trainQuickstart() {
        trained = tmp.resolve("quickstart");
        assertEquals(0, Cli.run("train", "configs/quickstart.yaml", "--out", trained.toString(), "--set", "train.steps=300",
                "--set", "train.eval_every=300", "--set", "train.checkpoint_every=300").exitCode());
    }

    private static void needsHostBuild() {
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
    }

    /**
     * 256 chains, 200 steps of ε = 0.01 (sample's default) from N(0, 2²I), compared after every step. Tolerance 1e-4
     * of ‖x_t‖: each step adds an fp32 rounding of x (6e-8) and of the drift and noise (~1e-7 of a step), and the
     * trained energy is confining (the density's precision is 4 per coordinate, so I − (ε/2)∇²E shrinks an error by
     * about 2% a step), so the difference settles near the per-step rounding instead of growing with t.
     */
    @Test
    void deviceChainFollowsTheCpuChainOnTheTrainedQuickstartModel() {
        needsHostBuild();
        RunConfig config = ConfigLoader.load(trained.resolve(Trainer.CONFIG), List.of());
        Mlp model = (Mlp) Components.model(config.model(), 2);
        double[] params = Export.params(model, RunState.load(trained).params(), null, null, 1.0);
        params = ebm.backend.cuda.runtime.Fp32.toDoubles(ebm.backend.cuda.runtime.Fp32.toFloats(params)); // same inputs on both sides
        int n = 256, steps = 200;
        double[] start = new double[n * 2];
        RandomStream draws = new RandomStream(17, 0, Streams.EVAL);
        for (int i = 0; i < start.length; i++) start[i] = (float) (2 * draws.gaussian(i));
        LangevinSchedule schedule = new LangevinSchedule(steps, 0.01, null);
        double[][] want = new double[steps][], got = new double[steps][];
        Langevin.run(model, params, start.clone(), n, schedule, 4, (t, x) -> want[(int) t - 1] = x.clone());
        try (CudaBackends.Runtime runtime = CudaBackends.open(ebm.config.BackendKind.CUDA_EMULATED)) {
            DeviceLangevin.run(runtime.launcher(), runtime.blas(), model.spec(), params, start.clone(), n, schedule, 4,
                    (t, x) -> got[(int) t - 1] = x.clone());
        }
        double worst = 0;
        int worstStep = 0;
        for (int t = 0; t < steps; t++) {
            double diff = 0, ref = 0;
            for (int i = 0; i < n * 2; i++) {
                diff += Math.pow(got[t][i] - want[t][i], 2);
                ref += want[t][i] * want[t][i];
            }
            double e = Math.sqrt(diff / ref);
            if (!(e <= worst)) {
                worst = e;
                worstStep = t + 1;
            }
            if (t + 1 == 1 || (t + 1) % 50 == 0) {
                System.out.printf("step %3d: ‖Δx‖/‖x‖ = %.2e, x[0] cuda-emulated %.8f, cpu %.8f%n", t + 1, e, got[t][0], want[t][0]);
            }
        }
        double moved = 0, size = 0;
        for (int i = 0; i < n * 2; i++) {
            moved += Math.pow(want[steps - 1][i] - start[i], 2);
            size += start[i] * start[i];
        }
        System.out.printf("quickstart model, %d chains x %d steps, cuda-emulated fp32 vs cpu fp64: worst ‖Δx_t‖/‖x_t‖ = %.2e "
                + "at step %d (chains moved ‖x_T − x_0‖/‖x_0‖ = %.2f)%n", n, steps, worst, worstStep, Math.sqrt(moved / size));
        assertTrue(worst <= 1e-4, "device chain drifted from the CPU chain by " + worst + " at step " + worstStep);
        assertTrue(Math.sqrt(moved / size) > 0.3, "the chains barely moved, so the comparison shows little");
    }

    private static Path copyOfRun(String name) {
        return TestFiles.copyOfFolder(trained, tmp.resolve(name));
    }

    private static Set<String> files(Path dir) {
        return TestFiles.names(dir);
    }

    @Test
    void sampleWithBackendCudaEmulatedWritesWhatTheCpuSamplerWrites() throws IOException {
        needsHostBuild();
        Path cpu = copyOfRun("sample-cpu"), cuda = copyOfRun("sample-cuda");
        String[] args = {"--n", "300", "--steps", "100", "--step-size", "0.01"};
        Cli a = Cli.run(Stream.concat(Stream.of("sample", cpu.toString()), Stream.concat(Stream.of(args), Stream.of("--backend", "cpu"))).toArray(String[]::new));
        Cli b = Cli.run(Stream.concat(Stream.of("sample", cuda.toString()), Stream.concat(Stream.of(args), Stream.of("--backend", "cuda-emulated"))).toArray(String[]::new));
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(0, b.exitCode(), b.err());
        assertEquals(Set.of("001-n300-s100-eps0.01"), files(cpu.resolve("samples")));
        assertEquals(files(cpu.resolve("samples")), files(cuda.resolve("samples")));
        cpu = cpu.resolve("samples/001-n300-s100-eps0.01");
        cuda = cuda.resolve("samples/001-n300-s100-eps0.01");
        assertEquals(files(cpu), files(cuda), "the same files");
        assertTrue(files(cuda).containsAll(Set.of("samples.npy", "samples.png")), files(cuda).toString());
        Npy.Matrix x = Npy.read(cpu.resolve("samples.npy")), y = Npy.read(cuda.resolve("samples.npy"));
        assertEquals(300, y.rows());
        assertEquals(x.cols(), y.cols());
        double diff = 0, ref = 0;
        for (int i = 0; i < x.data().length; i++) {
            diff += Math.pow(y.data()[i] - x.data()[i], 2);
            ref += x.data()[i] * x.data()[i];
        }
        System.out.printf("samples.npy, 300 chains x 100 steps: cuda-emulated vs cpu ‖Δ‖/‖x‖ = %.2e; first row %.7f,%.7f vs %.7f,%.7f%n",
                Math.sqrt(diff / ref), y.data()[0], y.data()[1], x.data()[0], x.data()[1]);
        assertTrue(Math.sqrt(diff / ref) <= 1e-4, "samples differ by " + Math.sqrt(diff / ref));
        assertTrue(a.out().contains("on cpu: MMD²"), a.out());
        assertTrue(b.out().contains("on cuda-emulated: MMD²"), b.out());
        assertTrue(Files.readString(cuda.resolve("summary.md")).contains("on cuda-emulated"));
        assertTrue(Files.readString(cpu.resolve("summary.md")).contains("on cpu"));
    }

    @Test
    void theRunsBackendIsTheDefault() throws IOException {
        needsHostBuild();
        Path cfg = tmp.resolve("emulated.yaml"), dir = tmp.resolve("emulated-run");
        Files.writeString(cfg, """
                seed: 2
                backend: cuda-emulated
                data: {name: two-peaks, n_train: 500, n_val: 100}
                model: {hidden: [8], activation: tanh}
                objective: {name: exact}
                train: {steps: 3, batch_size: 32, eval_every: 3, checkpoint_every: 3}
                """);
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", dir.toString()).exitCode());
        Cli s = Cli.run("sample", dir.toString(), "--n", "20", "--steps", "5");
        assertEquals(0, s.exitCode(), s.err());
        assertTrue(s.out().contains("on cuda-emulated"), s.out());
    }

    @Test
    void whatTheDeviceCannotSampleIsAnErrorNamingIt() throws IOException {
        Path cfg = tmp.resolve("quadratic.yaml"), dir = tmp.resolve("quadratic-run");
        Files.writeString(cfg, """
                seed: 2
                data: {name: two-peaks, n_train: 500, n_val: 100}
                model: {kind: quadratic}
                objective: {name: exact}
                train: {steps: 3, batch_size: 32, eval_every: 3, checkpoint_every: 3}
                """);
        assertEquals(0, Cli.run("train", cfg.toString(), "--out", dir.toString()).exitCode());
        Cli q = Cli.run("sample", dir.toString(), "--n", "20", "--steps", "5", "--backend", "cuda-emulated");
        assertEquals(2, q.exitCode());
        assertTrue(q.err().contains("model.kind: quadratic") && q.err().contains("ebm-mlp-v1"), q.err());
        Cli bad = Cli.run("sample", trained.toString(), "--n", "20", "--steps", "5", "--backend", "tpu");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--backend: 'tpu' is not allowed; allowed: cpu, cuda, cuda-emulated"), bad.err());
        if (GpuRuntime.unavailableReason().isPresent()) {
            Cli cuda = Cli.run("sample", trained.toString(), "--n", "20", "--steps", "5", "--backend", "cuda");
            assertEquals(2, cuda.exitCode());
            assertTrue(cuda.err().contains("--backend cuda: ") && cuda.err().contains("--backend cpu"), cuda.err());
            assertEquals(1, cuda.err().strip().lines().count(), cuda.err());
        }
    }
}
