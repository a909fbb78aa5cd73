package ebm.backend.cuda.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.objective.HutchinsonObjective;
import ebm.objective.ProbeDistribution;
import ebm.optim.SgdOptions;
import ebm.tape.Activation;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * On a GPU only (skipped, never passed, without one): the training step is captured into a CUDA graph on its second
 * call, and replays of it read the Philox step from device memory — two replays at different steps with the same
 * batch and parameters use different probes (different losses), the same step the same ones — and the captured
 * step follows the CPU reference like the eager one.
 */
class CapturedStepGpuTest {
    @Test
    void replaysOfTheCapturedStepDrawNewProbesEachStep() {
        GpuRuntime.deviceUnavailableReason().ifPresent(reason -> Assumptions.abort("skipped: " + reason));
        Assumptions.assumeTrue(GpuRuntime.unavailableReason().isEmpty(), () -> "skipped: " + GpuRuntime.unavailableReason().get());
        MlpSpec spec = new MlpSpec(4, new int[] {32, 32}, Activation.SOFTPLUS);
        double[] params = new Mlp(spec).initialParams(TestSeeds.fixed("captured step: parameters", 1));
        SplittableRandom random = new SplittableRandom(TestSeeds.fixed("captured step: batch", 2));
        long probes = TestSeeds.fixed("captured step: probes", 9);
        double[] x = new double[64 * 4];
        for (int i = 0; i < x.length; i++) x[i] = random.nextGaussian();
        try (GpuRuntime gpu = GpuRuntime.open();
             CudaTrainingStep step = new CudaTrainingStep(gpu.launcher(), gpu.blas(), spec,
                     new HutchinsonObjective(1, ProbeDistribution.GAUSSIAN, probes), SgdOptions.plain(1e-12), 64, null, params)) {
            step.step(x, 1, 1.0); // eager
            double second = step.step(x, 2, 1.0).loss(); // captured, then replayed
            assertTrue(step.captured(), "the second step is captured into a graph");
            double third = step.step(x, 3, 1.0).loss();
            double again = step.step(x, 3, 1.0).loss();
            System.out.printf("captured step: loss at step 2 %.9g, step 3 %.9g, step 3 again %.9g; %d launches per eager step%n",
                    second, third, again, step.launchesPerStep());
            assertNotEquals(second, third, "a replay at a new step must draw new probes");
            assertEquals(third, again, 1e-6 * Math.abs(third), "the same step draws the same probes (lr 1e-12 keeps θ)");
        }
    }
}
