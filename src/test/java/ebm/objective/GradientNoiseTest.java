package ebm.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ebm.TestNets;
import ebm.TestSeeds;
import ebm.model.Mlp;
import ebm.model.TraceAlgorithm;
import ebm.rng.RandomStream;
import ebm.tape.Activation;
import org.junit.jupiter.api.Test;

/**
 * The half-batch gradient-noise estimate is unbiased for the per-sample gradient variance tr Σ: averaged over
 * many batches it matches tr Σ computed from every sample's own gradient.
 */
class GradientNoiseTest {
    @Test
    void halfBatchEstimateMatchesThePerSampleGradientVariance() {
        Mlp mlp = new Mlp(TestNets.spec(new int[] {2, 8, 6}, Activation.SOFTPLUS));
        double[] p = mlp.initialParams(TestSeeds.fixed("gradient noise: parameters", 3));
        int n = 600, d = 2, batch = 40, batches = 300;
        double[] data = TestNets.points(n, d, TestSeeds.fixed("gradient noise: data", 8));
        Objective exact = new ExactObjective(TraceAlgorithm.AUTO);
        // tr Σ from every sample's own gradient
        double[][] g = new double[n][p.length];
        double[] mean = new double[p.length];
        for (int i = 0; i < n; i++) {
            exact.evaluate(mlp, p, java.util.Arrays.copyOfRange(data, i * d, i * d + d), 1, 0, g[i]);
            for (int k = 0; k < p.length; k++) mean[k] += g[i][k] / n;
        }
        double trace = 0;
        for (double[] gi : g) for (int k = 0; k < p.length; k++) trace += (gi[k] - mean[k]) * (gi[k] - mean[k]) / (n - 1);
        // the estimate, averaged over random batches (with replacement, so samples are independent)
        double sum = 0;
        double[] grad = new double[p.length];
        long batchSeed = TestSeeds.fixed("gradient noise: batches (step t = batch t)", 9);
        for (int t = 0; t < batches; t++) {
            RandomStream pick = new RandomStream(batchSeed, t, 3);
            double[] x = new double[batch * d];
            for (int i = 0; i < batch; i++) System.arraycopy(data, pick.below(i, n) * d, x, i * d, d);
            Objective.Result r = exact.run(mlp, p, x, batch, 0, grad);
            double norm = 0;
            for (double v : grad) norm += v * v;
            sum += r.gradNoise() * r.gradNoise() * norm * batch;
        }
        double estimate = sum / batches;
        System.out.printf("per-sample gradient variance tr Σ: %.5g from all %d samples, %.5g from half-batch splits "
                + "(mean of %d batches of %d)%n", trace, n, estimate, batches, batch);
        // the estimate of one batch has ~ (2 / #params)-relative spread at best; 300 batches average it down
        assertEquals(trace, estimate, 0.15 * trace);
    }
}
