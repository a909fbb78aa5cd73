package ebm.backend.cuda.step;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.Fp32;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.runtime.RecordingGraphs;
import ebm.config.OptimizerConfig;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.model.TraceAlgorithm;
import ebm.objective.AnnealedDenoisingObjective;
import ebm.objective.DenoisingObjective;
import ebm.objective.ExactObjective;
import ebm.objective.HutchPlusPlusObjective;
import ebm.objective.HutchinsonObjective;
import ebm.objective.Objective;
import ebm.objective.ProbeDistribution;
import ebm.objective.SlicedObjective;
import ebm.optim.OptimizerSpec;
import ebm.tape.Activation;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The training step as a GPU runs it, on the CPU: through {@link RecordingGraphs} the second step is recorded with
 * its launch arguments and GEMM arguments frozen (as cuStreamBeginCapture freezes them) and every later step replays
 * that recording. Anything that changes per step but was passed as an argument instead of read from device memory
 * (Philox step, learning rate, bias corrections, Shampoo's root step and start flag) would make the replayed run
 * leave the eager one. Each objective × optimizer pair must give the eager run's losses and parameters bit for bit.
 */
class CapturedStepEmulatedTest {
    private static final int STEPS = 7;
    private static final int BATCH = 10;

    /** The optimizer these keys of a config parse into (optimizer.weight_decay 0.01, the rest as given or default). */
    private static OptimizerSpec config(String name, double lr, Double momentum, Boolean nesterov, Double adamLr,
                                          Integer rootEvery, Integer startStep) {
        return new OptimizerConfig(name, lr, 0.01, momentum, null, nesterov, null, null, null, adamLr, null, null, rootEvery,
                startStep, null, null).spec();
    }

    private record Run(double[] losses, double[] params, int captures, int replays) {}

    private static Run run(KernelLauncher launcher, Blas blas, MlpSpec spec, Objective objective, OptimizerSpec optimizer,
                           double[] init, double[][] batches, double[] lrScales, RecordingGraphs graphs) {
        double[] losses = new double[STEPS];
        try (CudaTrainingStep step = new CudaTrainingStep(launcher, blas, spec, objective, optimizer, BATCH, 1.0, init)) {
            for (int t = 0; t < STEPS; t++) losses[t] = step.step(batches[t], t + 1, lrScales[t]).loss();
            return new Run(losses, step.params(), graphs == null ? 0 : graphs.captures, graphs == null ? 0 : graphs.replays);
        }
    }

    private static void compare(String label, MlpSpec spec, Objective objective, OptimizerSpec optimizer) {
        Random random = new Random(TestSeeds.fixed(label + ": parameters and batches", label.hashCode()));
        double[] init = Fp32.toDoubles(Fp32.toFloats(new Mlp(spec).initialParams(random.nextLong())));
        double[][] batches = new double[STEPS][BATCH * spec.inputDim()];
        for (double[] b : batches) for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian();
        double[] lrScales = new double[STEPS];
        for (int t = 0; t < STEPS; t++) lrScales[t] = 1.0 - 0.1 * t; // a schedule: the lr changes every step
        Run eager, replayed;
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            eager = run(host, blas, spec, objective, optimizer, init, batches, lrScales, null);
        }
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip(); RecordingGraphs graphs = new RecordingGraphs(host)) {
            replayed = run(graphs.launcher, graphs.blas, spec, objective, optimizer, init, batches, lrScales, graphs);
        }
        System.out.printf("%-34s captures %d, replays %d; losses eager %s%n", label, replayed.captures(), replayed.replays(),
                java.util.Arrays.toString(java.util.Arrays.stream(eager.losses()).mapToObj(v -> String.format("%.6g", v)).toArray()));
        assertTrue(replayed.captures() >= 1 && replayed.replays() >= STEPS - 1, label + ": the step was not captured and replayed");
        assertArrayEquals(eager.losses(), replayed.losses(), label + ": per-step losses, eager vs replayed");
        assertArrayEquals(eager.params(), replayed.params(), label + ": parameters after " + STEPS + " steps");
    }

    @Test
    void everyObjectiveAndOptimizerReplaysToTheEagerRunsBits() {
        MlpSpec small = new MlpSpec(3, new int[] {12, 10}, Activation.SOFTPLUS);
        MlpSpec wide = new MlpSpec(9, new int[] {5, 7}, Activation.SILU); // D > H1: row-space
        long seed = TestSeeds.fixed("objectives' probes and noise", 77);
        compare("exact, adamw, clip", small, new ExactObjective(TraceAlgorithm.AUTO), config("adamw", 3e-3, null, null, null, null, null));
        compare("exact row-space, sgd momentum", wide, new ExactObjective(TraceAlgorithm.ROW_SPACE),
                config("sgd", 0.02, 0.9, false, null, null, null));
        compare("hutchinson-2, sgd nesterov", small, new HutchinsonObjective(2, ProbeDistribution.RADEMACHER, seed),
                config("sgd", 0.02, 0.9, true, null, null, null));
        compare("sliced-1, muon", small, new SlicedObjective(1, ProbeDistribution.GAUSSIAN, seed),
                config("muon", 0.02, null, null, 3e-3, null, null));
        compare("denoising, shampoo (roots every 2)", small, new DenoisingObjective(0.2, seed),
                config("shampoo", 0.01, null, null, null, 2, 2));
        compare("hutch++-6, adamw", new MlpSpec(5, new int[] {12, 10}, Activation.TANH),
                new HutchPlusPlusObjective(6, ProbeDistribution.GAUSSIAN, seed), config("adamw", 3e-3, null, null, null, null, null));
        compare("annealed denoising, adamw", small,
                new AnnealedDenoisingObjective(AnnealedDenoisingObjective.geometricLevels(1.0, 0.05, 4), seed),
                config("adamw", 3e-3, null, null, null, null, null));
    }
}
