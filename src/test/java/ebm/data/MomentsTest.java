package ebm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.TestSeeds;
import ebm.io.Npy;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import org.junit.jupiter.api.Test;

class MomentsTest {
    @Test
    void momentMatchedGaussianOfAGaussianSampleIsCloseToIt() {
        GaussianDensity truth = GaussianDensity.random(new RandomStream(TestSeeds.fixed("moments: the Gaussian", 1), 0, Streams.EVAL), 3, 1, 1, 10);
        Npy.Matrix pts = DataSources.trainSamples(truth, TestSeeds.fixed("moments: its sample", 4), 5000);
        GaussianDensity fit = Moments.momentMatchedGaussian(pts);
        double self = Moments.fisherDivergence(fit, fit, pts);
        double toTruth = Moments.fisherDivergence(fit, truth, pts);
        System.out.printf("F(fit, fit) = %.3g, F(fit, truth) = %.3g on 5000 points%n", self, toTruth);
        assertEquals(0.0, self, 0.0);
        assertTrue(toTruth < 0.05);
        // The fitted mean is the sample mean exactly.
        double[] m = Moments.mean(pts.data(), pts.rows(), 3);
        for (int i = 0; i < 3; i++) assertEquals(m[i], fit.mean()[i], 0.0);
    }

    @Test
    void fisherDivergenceOfShiftedGaussiansIsHalfTheSquaredPrecisionShift() {
        // Same covariance S, means differ by delta: s_a - s_b = S^-1 delta at every x, so F = 1/2 |S^-1 delta|^2.
        double[] cov = {4, 0, 0, 0.25};
        GaussianDensity a = new GaussianDensity(new double[] {1, 0}, cov);
        GaussianDensity b = new GaussianDensity(new double[] {0, 1}, cov);
        double expected = 0.5 * ((1 / 4.0) * (1 / 4.0) + 4.0 * 4.0);
        Npy.Matrix pts = DataSources.trainSamples(ToyDensities.moons(), 1, 100);
        double f = Moments.fisherDivergence(a, b, pts);
        System.out.printf("F = %.15f, expected %.15f%n", f, expected);
        assertEquals(expected, f, 1e-12);
    }

    @Test
    void singularCovarianceIsReported() {
        Npy.Matrix twoPoints = new Npy.Matrix(2, 3, new double[] {1, 2, 3, 4, 5, 6});
        EbmException e = assertThrows(EbmException.class, () -> Moments.momentMatchedGaussian(twoPoints));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("singular"));
    }
}
