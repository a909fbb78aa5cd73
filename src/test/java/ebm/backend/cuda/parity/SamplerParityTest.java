package ebm.backend.cuda.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.Fp32;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.backend.cuda.runtime.RecordingGraphs;
import ebm.backend.cuda.step.DeviceLangevin;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;
import ebm.tape.Activation;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The device Langevin sampler through the host build of kernels/ against the fp64 CPU sampler (SamplerParityChecks
 * holds the tolerances), and the property a captured chain depends on: the step counter in device memory, not the
 * launch arguments, picks each step's draws.
 */
class SamplerParityTest {

    @Test
    void noiseOneStepAndChainsMatchTheCpuSampler() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            List<ParityResult> results = new SamplerParityChecks(launcher, blas, TestSeeds.seed("SamplerParityChecks.all")).all();
            assertEquals(4, results.size());
            for (ParityResult r : results) HostBuild.report(r);
        }
    }

    /** Zero energy, ε = 1, x₀ = 0: the chain's increments are the draws themselves. */
    @Test
    void twoStepsWithTheSameLaunchArgumentsDrawDifferentNoise() {
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip(); RecordingGraphs graphs = new RecordingGraphs(host)) {
            MlpSpec spec = new MlpSpec(2, new int[] {3}, Activation.SOFTPLUS);
            int n = 5;
            long seed = TestSeeds.fixed("device chain, 4 steps of zero energy", 987654321L);
            try (DeviceLangevin chain = new DeviceLangevin(graphs.launcher, graphs.blas, spec,
                    new double[spec.layout().size()], n, new LangevinSchedule(4, 1.0, null), seed)) {
                chain.start(new double[n * 2]);
                List<double[]> draws = new ArrayList<>();
                double[] previous = new double[n * 2];
                for (int t = 1; t <= 4; t++) {
                    chain.advance(1);
                    double[] x = chain.points();
                    double[] xi = new double[x.length];
                    for (int i = 0; i < x.length; i++) xi[i] = x[i] - previous[i];
                    previous = x;
                    draws.add(xi);
                    assertEquals(t, chain.deviceStep(), "the device's step counter");
                }
                // step 1 ran eagerly, step 2 was captured, steps 2..4 are replays of one recording
                assertTrue(chain.captured());
                assertEquals(1, graphs.captures);
                assertEquals(3, graphs.replays);
                for (int t = 1; t <= 4; t++) {
                    double[] want = new double[n * 2];
                    new RandomStream(seed, t, Streams.LANGEVIN).fillGaussian(want, 0, want.length, 0);
                    double e = KernelParityChecks.normRelative(draws.get(t - 1), want);
                    System.out.printf("step %d (%s): ξ[0] device %.7f, CPU stream %.7f; ‖Δξ‖/‖ξ‖ = %.2e%n", t,
                            t == 1 ? "eager" : "replayed", draws.get(t - 1)[0], want[0], e);
                    assertTrue(e < 2e-6, "step " + t + " draws differ from the CPU stream by " + e);
                    if (t > 1) assertFalse(java.util.Arrays.equals(draws.get(t - 1), draws.get(t - 2)), "steps reuse noise");
                }
            }
        }
    }

    /** A captured (recorded) chain follows the CPU chain like the eager one: nothing per step is baked in. */
    @Test
    void aReplayedChainFollowsTheCpuChain() {
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip(); RecordingGraphs graphs = new RecordingGraphs(host)) {
            MlpSpec spec = new MlpSpec(2, new int[] {16, 16}, Activation.SILU);
            int n = 20, steps = 15;
            double[] params = Fp32.toDoubles(Fp32.toFloats(new Mlp(spec).initialParams(TestSeeds.fixed("annealed chain: parameters", 3))));
            double[] start = new double[n * 2];
            RandomStream starts = new RandomStream(TestSeeds.fixed("annealed chain: start points", 11), 0, Streams.EVAL);
            for (int i = 0; i < start.length; i++) start[i] = (float) starts.gaussian(i);
            LangevinSchedule schedule = new LangevinSchedule(steps, 0.02, new double[] {0.8, 0.3}); // levels of 8 and 7
            double[][] want = new double[steps][], got = new double[steps][];
            double[] cpu = start.clone(), dev = start.clone();
            long noise = TestSeeds.fixed("annealed chain: Langevin noise", 5);
            Langevin.run(new Mlp(spec), params, cpu, n, schedule, noise, (t, x) -> want[(int) t - 1] = x.clone());
            DeviceLangevin.run(graphs.launcher, graphs.blas, spec, params, dev, n, schedule, noise, (t, x) -> got[(int) t - 1] = x.clone());
            assertEquals(1, graphs.captures);
            assertEquals(steps - 1, graphs.replays);
            double worst = 0;
            for (int t = 0; t < steps; t++) worst = Math.max(worst, KernelParityChecks.normRelative(got[t], want[t]));
            System.out.printf("annealed chain, 15 steps (14 replayed): worst ‖Δx_t‖/‖x_t‖ = %.2e; x[0] device %.7f, CPU %.7f%n",
                    worst, dev[0], cpu[0]);
            assertTrue(worst < 1e-4, "replayed chain drifts from the CPU chain: " + worst);
        }
    }

    /** On a GPU only (skipped, never passed, without one): the same checks through the driver, with real capture. */
    @Test
    void onAGpuTheCapturedChainFollowsTheCpuChain() {
        GpuRuntime.deviceUnavailableReason().ifPresent(reason -> Assumptions.abort("skipped: " + reason));
        Assumptions.assumeTrue(GpuRuntime.unavailableReason().isEmpty(), () -> "skipped: " + GpuRuntime.unavailableReason().get());
        try (GpuRuntime gpu = GpuRuntime.open()) {
            long seed = TestSeeds.seed("SamplerParityChecks.all on the GPU");
            for (ParityResult r : new SamplerParityChecks(gpu.launcher(), gpu.blas(), seed).all()) HostBuild.report(r);
            MlpSpec spec = new MlpSpec(2, new int[] {64, 64}, Activation.SOFTPLUS);
            try (DeviceLangevin chain = new DeviceLangevin(gpu.launcher(), gpu.blas(), spec, new Mlp(spec).initialParams(1), 1000,
                    new LangevinSchedule(100, 0.01, null), 3)) {
                chain.start(new double[2000]);
                chain.advance(100);
                double[] x = chain.points();
                assertTrue(chain.captured(), "steps after the first replay a captured graph");
                assertEquals(100, chain.deviceStep());
                System.out.printf("GPU chain, 1000 chains x 100 steps, captured: x[0] %.6f, %d launches per eager step%n", x[0],
                        chain.launchesPerStep());
            }
        }
    }
}
