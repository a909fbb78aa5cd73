package ebm.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.TestSeeds;
import ebm.io.Npy;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void everySourceIsDeterministicPerSeedAndDiffersAcrossSeeds() {
        for (String name : DataSources.NAMES) {
            Density p = DataSources.byName(name, 7, name.equals("gaussian") || name.equals("mixture")
                    ? SyntheticOptions.defaults(3) : null);
            double[] a = p.sample(new RandomStream(1, 0, Streams.DATA), 200);
            double[] b = p.sample(new RandomStream(1, 0, Streams.DATA), 200);
            double[] c = p.sample(new RandomStream(2, 0, Streams.DATA), 200);
            double[] tail = p.sample(new RandomStream(1, 0, Streams.DATA), 150, 50);
            int d = p.dim();
            assertArrayEquals(a, b, 0.0, name);
            assertArrayEquals(Arrays.copyOfRange(a, 150 * d, 200 * d), tail, 0.0, name + ": samples 150.. from offset");
            int same = 0;
            for (int i = 0; i < a.length; i++) if (a[i] == c[i]) same++;
            assertTrue(Arrays.stream(a).allMatch(Double::isFinite), name);
            Npy.Matrix train = DataSources.trainSamples(p, 1, 50);
            Npy.Matrix val = DataSources.validationSamples(p, 1, 50);
            assertFalse(Arrays.equals(train.data(), val.data()), name + ": train and validation differ");
            System.out.printf("%-12s D=%d: same seed identical, offset draw matches, %d/%d equal values across seeds%n",
                    name, d, same, a.length);
            assertEquals(0, same, name);
        }
    }

    @Test
    void randomDensityParametersDependOnTheSeedOnly() {
        GaussianMixture a = (GaussianMixture) DataSources.byName("mixture", 5, SyntheticOptions.defaults(4));
        GaussianMixture b = (GaussianMixture) DataSources.byName("mixture", 5, SyntheticOptions.defaults(4));
        GaussianMixture c = (GaussianMixture) DataSources.byName("mixture", 6, SyntheticOptions.defaults(4));
        assertArrayEquals(a.mean(3), b.mean(3), 0.0);
        assertArrayEquals(a.covariance(3), b.covariance(3), 0.0);
        assertFalse(Arrays.equals(a.mean(3), c.mean(3)));
        assertEquals(8, a.components());
    }

    @Test
    void randomCovarianceHasTheRequestedSpectrum() {
        int d = 5;
        GaussianDensity g = GaussianDensity.random(new RandomStream(TestSeeds.fixed("random covariance", 9), 0, Streams.EVAL), d, 0, 2.0, 50);
        org.ejml.data.DMatrixRMaj cov = new org.ejml.data.DMatrixRMaj(d, d, true, g.covariance());
        var eig = org.ejml.dense.row.factory.DecompositionFactory_DDRM.eig(d, false, true);
        assertTrue(eig.decompose(cov));
        double[] ev = new double[d];
        for (int i = 0; i < d; i++) ev[i] = eig.getEigenvalue(i).getReal();
        Arrays.sort(ev);
        System.out.println("eigenvalues " + Arrays.toString(ev) + " (want 4 * 50^(-i/4))");
        for (int i = 0; i < d; i++) assertEquals(4 * Math.pow(50, -(d - 1 - i) / 4.0), ev[i], 1e-12);
    }

    /** Sample mean and covariance within 5 estimated standard errors of the true ones. */
    static void assertMomentsMatch(String what, double[] x, int n, int d, double[] mean, double[] cov) {
        double[] m = Moments.mean(x, n, d);
        double[] s = Moments.covariance(x, n, d);
        double worstMean = 0;
        double worstCov = 0;
        for (int a = 0; a < d; a++) {
            double z = Math.abs(m[a] - mean[a]) / Math.sqrt(cov[a * d + a] / n);
            worstMean = Math.max(worstMean, z);
            for (int b = 0; b < d; b++) {
                // Standard error of a covariance entry from the spread of the centred products.
                double sum = 0;
                double sumSq = 0;
                for (int i = 0; i < n; i++) {
                    double prod = (x[i * d + a] - m[a]) * (x[i * d + b] - m[b]);
                    sum += prod;
                    sumSq += prod * prod;
                }
                double varProd = sumSq / n - (sum / n) * (sum / n);
                worstCov = Math.max(worstCov, Math.abs(s[a * d + b] - cov[a * d + b]) / Math.sqrt(varProd / n));
            }
        }
        System.out.printf("%s: n=%d, worst |mean error| = %.2f SE, worst |cov error| = %.2f SE%n", what, n,
                worstMean, worstCov);
        assertTrue(worstMean < 5, what + " mean");
        assertTrue(worstCov < 5, what + " covariance");
    }

    @Test
    void gaussianAndMixtureSamplesMatchTheirParameters() {
        int n = 20000;
        GaussianDensity g = GaussianDensity.random(new RandomStream(TestSeeds.fixed("gaussian D=4: parameters", 3), 0, Streams.EVAL), 4, 1.0, 1.5, 20);
        assertMomentsMatch("gaussian D=4", g.sample(new RandomStream(TestSeeds.fixed("gaussian D=4: sample", 1), 0, Streams.DATA), n), n, 4, g.mean(),
                g.covariance());

        GaussianMixture mix = GaussianMixture.random(new RandomStream(TestSeeds.fixed("mixture D=3 K=4: parameters", 4), 0, Streams.EVAL), 3, 4, 2.0, 0.7, 5);
        int d = 3;
        double[] mean = new double[d];
        double[] second = new double[d * d];
        for (int k = 0; k < mix.components(); k++) {
            double[] mu = mix.mean(k);
            double[] cov = mix.covariance(k);
            for (int a = 0; a < d; a++) {
                mean[a] += mix.weight(k) * mu[a];
                for (int b = 0; b < d; b++) second[a * d + b] += mix.weight(k) * (cov[a * d + b] + mu[a] * mu[b]);
            }
        }
        for (int a = 0; a < d; a++) for (int b = 0; b < d; b++) second[a * d + b] -= mean[a] * mean[b];
        assertMomentsMatch("mixture D=3 K=4", mix.sample(new RandomStream(TestSeeds.fixed("mixture D=3 K=4: sample", 1), 0, Streams.DATA), n), n, d, mean, second);

        // Unequal weights: component frequencies follow the weights (two far-apart 1-D components).
        GaussianMixture skewed = GaussianMixture.isotropic("skewed", new double[] {1, 3},
                new double[][] {{-10}, {10}}, 1);
        double[] s = skewed.sample(new RandomStream(TestSeeds.fixed("skewed mixture: sample", 2), 0, Streams.DATA), n);
        long right = Arrays.stream(s).filter(v -> v > 0).count();
        double se = Math.sqrt(0.75 * 0.25 / n);
        System.out.printf("weights 1:3 -> fraction in the second component %.4f (want 0.75 +- %.4f)%n",
                (double) right / n, 5 * se);
        assertEquals(0.75, (double) right / n, 5 * se);
    }

    @Test
    void toySamplesLieWhereTheFormulasPutThem() {
        int n = 4000;
        double[] rings = ToyDensities.rings().sample(new RandomStream(TestSeeds.fixed("rings: sample", 1), 0, Streams.DATA), n);
        double worstRing = 0;
        for (int i = 0; i < n; i++) {
            double r = Math.hypot(rings[2 * i], rings[2 * i + 1]);
            double nearest = Double.MAX_VALUE;
            for (double radius : RingsDensity.RADII) nearest = Math.min(nearest, Math.abs(r - radius));
            worstRing = Math.max(worstRing, nearest);
        }
        System.out.printf("rings: farthest sample is %.3f from its circle (noise std 0.08)%n", worstRing);
        assertTrue(worstRing < 6 * 0.08);

        Density board = ToyDensities.checkerboard();
        double[] cb = board.sample(new RandomStream(TestSeeds.fixed("checkerboard: sample", 1), 0, Streams.DATA), n);
        for (int i = 0; i < n; i++) {
            assertTrue(Double.isFinite(board.logDensity(cb, 2 * i)), "checkerboard sample " + i + " in support");
        }
        System.out.println("checkerboard: all " + n + " samples in the support");

        double[] eight = ToyDensities.eightGaussians().sample(new RandomStream(TestSeeds.fixed("8gaussians: sample", 1), 0, Streams.DATA), n);
        double meanRadius = 0;
        for (int i = 0; i < n; i++) meanRadius += Math.hypot(eight[2 * i], eight[2 * i + 1]) / n;
        System.out.printf("8gaussians: mean radius %.3f (centres at %.3f)%n", meanRadius, 2 * Math.sqrt(2));
        assertEquals(2 * Math.sqrt(2), meanRadius, 0.05);
    }

    @Test
    void registryRejectsUnknownNamesAndWrongDimensions() {
        EbmException e = assertThrows(EbmException.class, () -> DataSources.byName("circles", 1, null));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("'circles'") && e.getMessage().contains(String.join(", ", DataSources.NAMES)));
        EbmException dim = assertThrows(EbmException.class,
                () -> DataSources.byName("moons", 1, SyntheticOptions.defaults(3)));
        System.out.println(dim.getMessage());
        assertTrue(dim.getMessage().contains("dim 3"));
        assertEquals(6, DataSources.byName("gaussian", 1, SyntheticOptions.defaults(6)).dim());
    }
}
