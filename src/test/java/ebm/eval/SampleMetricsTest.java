package ebm.eval;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.rng.RandomStream;
import org.junit.jupiter.api.Test;

/** MMD² and KSD² separate a matching sample from a mismatched one, and vanish (up to noise) on a match. */
class SampleMetricsTest {
    private static double[] gaussian(int n, int d, long seed, double shift) {
        double[] x = new double[n * d];
        TestSeeds.fixed(n + " points of N(" + shift + ", I) in D=" + d, seed);
        new RandomStream(seed, 0, 0).fillGaussian(x, 0, x.length, 0);
        for (int i = 0; i < x.length; i++) x[i] += shift;
        return x;
    }

    @Test
    void mmdIsNearZeroForTheSameDistributionAndLargeOtherwise() {
        int n = 400, d = 2;
        double same = SampleMetrics.mmdSquared(gaussian(n, d, 1, 0), n, gaussian(n, d, 2, 0), n, d);
        double shifted = SampleMetrics.mmdSquared(gaussian(n, d, 1, 0), n, gaussian(n, d, 2, 1.0), n, d);
        System.out.printf("MMD²: same distribution %.2e, shifted by 1 %.2e%n", same, shifted);
        assertTrue(Math.abs(same) < 0.01);
        assertTrue(shifted > 10 * Math.abs(same) && shifted > 0.05);
    }

    @Test
    void ksdIsNearZeroUnderTheTrueScoreAndLargeUnderAWrongOne() {
        int n = 400, d = 2;
        double[] x = gaussian(n, d, 3, 0);
        double[] trueScore = new double[x.length], wrongScore = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            trueScore[i] = -x[i];          // N(0, I)
            wrongScore[i] = -(x[i] - 1.0); // N(1, I)
        }
        double good = SampleMetrics.ksdSquared(x, trueScore, n, d);
        double bad = SampleMetrics.ksdSquared(x, wrongScore, n, d);
        System.out.printf("KSD²: true score %.2e, score of N(1, I) %.2e%n", good, bad);
        assertTrue(Math.abs(good) < 0.01);
        assertTrue(bad > 0.1);
    }
}
