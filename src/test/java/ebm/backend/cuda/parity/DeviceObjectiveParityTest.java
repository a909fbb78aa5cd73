package ebm.backend.cuda.parity;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.Fp32;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.backend.cuda.step.CudaTrainingStep;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The device tape's ops, each objective's loss and parameter gradient, and whole training steps, through the host
 * build of kernels/ and the host GEMM, against the fp64 CPU reference (StepParityChecks holds the tolerances).
 */
class DeviceObjectiveParityTest {

    /** One family of StepParityChecks on a fresh host build and host GEMM, every row reported and required to pass. */
    private static void check(long seed, Function<StepParityChecks, List<ParityResult>> family) {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            for (ParityResult r : family.apply(new StepParityChecks(launcher, blas, seed))) HostBuild.report(r);
        }
    }

    @Test
    void everyTapeOpMatchesTheCpuTape() {
        check(TestSeeds.seed("StepParityChecks.tapeOps"), StepParityChecks::tapeOps);
    }

    @Test
    void everyObjectiveMatchesTheCpuReference() {
        check(TestSeeds.seed("StepParityChecks.objectives"), StepParityChecks::objectives);
    }

    /** Hutch++ with 3 and 4 sketch vectors: the loss, the gradient, and the device's Q spanning the CPU's sketch. */
    @Test
    void hutchPlusPlusWithLargerSketchesSpansTheSketch() {
        long seed = System.nanoTime();
        System.out.println("inputs seed " + seed);
        check(seed, StepParityChecks::sketchObjectives);
    }

    @Test
    void objectivesWithTf32AndBf16GemmsStayWithinTheirDocumentedTolerances() {
        int repeats = Integer.getInteger("ebm.precisionRepeats", 1);
        long first = TestSeeds.seed("StepParityChecks.precisions");
        for (int i = 0; i < repeats; i++) {
            long seed = first + i; // repeat i replays on its own (one repeat) with -Debm.seed=<first + i>
            if (i > 0) System.out.printf("StepParityChecks.precisions, repeat %d of %d: seed=%d%n", i + 1, repeats, seed);
            check(seed, StepParityChecks::precisions);
        }
    }

    @Test
    void wholeTrainingStepsFollowTheCpuReference() {
        check(TestSeeds.seed("StepParityChecks.trainingSteps"), StepParityChecks::trainingSteps);
    }

    /**
     * Row-space on the device with a first layer of lower rank (a zero row, a repeated row): W₁W₁ᵀ is singular, so
     * the Newton–Schulz C⁻¹ grows along its null space; C⁻¹W₁ must still give the CPU's gradient (W₁ has no
     * component there).
     */
    @Test
    void rowSpaceOnTheDeviceHandlesARankDeficientFirstLayer() {
        ebm.model.MlpSpec spec = new ebm.model.MlpSpec(24, new int[] {8, 6}, ebm.tape.Activation.SOFTPLUS);
        ebm.model.Mlp mlp = new ebm.model.Mlp(spec);
        double[] p = Fp32.toDoubles(Fp32.toFloats(mlp.initialParams(TestSeeds.fixed("rank-deficient W1: parameters", 3))));
        ebm.model.ParamView w1 = mlp.layout().view(ebm.model.MlpSpec.weightName(0));
        java.util.Arrays.fill(p, w1.offset() + 2 * w1.cols(), w1.offset() + 3 * w1.cols(), 0.0);
        System.arraycopy(p, w1.offset() + 4 * w1.cols(), p, w1.offset() + 5 * w1.cols(), w1.cols());
        int batch = 12;
        double[] x = new double[batch * 24];
        java.util.Random random = new java.util.Random(TestSeeds.fixed("rank-deficient W1: points", 4));
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        ebm.objective.ExactObjective exact = new ebm.objective.ExactObjective(ebm.model.TraceAlgorithm.ROW_SPACE);
        double[] want = new double[p.length], got = new double[p.length];
        double wantLoss = exact.evaluate(mlp, p, x, batch, 0, want);
        double gotLoss;
        ebm.optim.AdamWOptions adam = new ebm.optim.AdamWOptions(1e-3, 0.9, 0.999, 1e-8, 0.0);
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32);
             CudaTrainingStep device = new CudaTrainingStep(launcher, blas, spec, exact, adam, batch, null, p)) {
            gotLoss = device.lossAndGradient(x, 0, got);
        }
        double lossError = Math.abs(gotLoss - wantLoss) / Math.abs(wantLoss);
        double gradError = KernelParityChecks.normRelative(got, want);
        System.out.printf("rank-6 W1 (8x24), device row-space vs CPU: loss %.9g vs %.9g (rel %.1e), gradient rel %.1e%n",
                gotLoss, wantLoss, lossError, gradError);
        org.junit.jupiter.api.Assertions.assertTrue(lossError < 1e-4 && gradError < 1e-4,
                "loss rel " + lossError + ", gradient rel " + gradError);
    }
}
