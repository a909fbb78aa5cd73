package ebm.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestNets;
import ebm.TestSeeds;
import ebm.model.Mlp;
import ebm.model.TraceAlgorithm;
import ebm.tape.Activation;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * train.accumulate: the batch run as micro-batches one after another gives the full batch's loss, gradient and
 * gradient-noise estimate to rounding, for every objective (the draws are the full batch's, so only the order of the
 * sums' chunks differs).
 */
class GradientAccumulationTest {
    private static final int BATCH = 60, D = 3;

    @Test
    void microBatchesSumToTheFullBatchGradient() {
        long seed = TestSeeds.seed("gradient accumulation: parameters, points and draws");
        Mlp mlp = new Mlp(TestNets.spec(new int[] {D, 8, 6}, Activation.SOFTPLUS));
        double[] params = TestNets.params(mlp, seed);
        double[] x = TestNets.points(BATCH, D, seed + 1);
        List<Objective> objectives = List.of(new ExactObjective(TraceAlgorithm.AUTO),
                new HutchinsonObjective(2, ProbeDistribution.RADEMACHER, seed),
                new SlicedObjective(1, ProbeDistribution.GAUSSIAN, seed), new HutchPlusPlusObjective(4, ProbeDistribution.GAUSSIAN, seed),
                new DenoisingObjective(0.1, seed), new AnnealedDenoisingObjective(AnnealedDenoisingObjective.geometricLevels(1, 0.05, 5), seed));
        for (Objective objective : objectives) {
            double[] full = new double[params.length];
            Objective.Result whole = objective.run(mlp, params, x, BATCH, 7, full, 1);
            // the noise split (row 30) falls inside a micro-batch of 20 rows, on a boundary of 15-row ones; 60: one row each
            for (int micro : new int[] {3, 4, 60}) {
                double[] accumulated = new double[params.length];
                Objective.Result parts = objective.run(mlp, params, x, BATCH, 7, accumulated, micro);
                double gradError = TestNets.relativeError(full, accumulated);
                double lossError = Math.abs(parts.loss() - whole.loss()) / Math.abs(whole.loss());
                double noiseError = Math.abs(parts.gradNoise() - whole.gradNoise()) / whole.gradNoise();
                System.out.printf("%-18s %2d micro-batches of %2d rows vs one batch of %d: gradient rel. error %.2e, "
                        + "loss %.17g vs %.17g (rel. %.2e), gradient noise rel. %.2e%n", objective.name(), micro, BATCH / micro,
                        BATCH, gradError, parts.loss(), whole.loss(), lossError, noiseError);
                assertTrue(gradError < 1e-12, objective.name() + " x" + micro + ": gradient rel. error " + gradError);
                assertTrue(lossError < 1e-12, objective.name() + " x" + micro + ": loss rel. error " + lossError);
                assertTrue(noiseError < 1e-10, objective.name() + " x" + micro + ": gradient noise rel. error " + noiseError);
            }
            double norm = 0;
            for (double g : full) norm += g * g;
            assertTrue(norm > 0, objective.name() + ": a zero gradient would make the comparison empty");
        }
    }

    @Test
    void aBatchThatDoesNotSplitEvenlyIsRefused() {
        Mlp mlp = new Mlp(TestNets.spec(new int[] {D, 4}, Activation.TANH));
        double[] params = TestNets.params(mlp, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> new ExactObjective(TraceAlgorithm.AUTO)
                .run(mlp, params, TestNets.points(10, D, 2), 10, 1, new double[params.length], 4));
        System.out.println("uneven micro-batches: " + e.getMessage());
        assertEquals("batch 10 is not a multiple of 4 micro-batches", e.getMessage());
    }
}
