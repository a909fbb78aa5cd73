package ebm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

/** Scores against finite differences of log densities; noised scores against independently computed noised densities. */
class DensityScoreTest {
    static final double[] SIGMAS = {0.05, 0.3, 1.5};

    static List<Density> knownDensities() {
        return List.of(
                ToyDensities.twoPeaks(),
                ToyDensities.eightGaussians(),
                ToyDensities.rings(),
                GaussianDensity.random(new RandomStream(TestSeeds.fixed("random gaussian D=4", 3), 0, Streams.EVAL), 4, 1.0, 1.5, 100),
                GaussianMixture.random(new RandomStream(TestSeeds.fixed("random mixture D=3 K=4", 4), 0, Streams.EVAL), 3, 4, 2.0, 0.7, 5),
                GaussianMixture.random(new RandomStream(TestSeeds.fixed("random mixture D=5 K=3", 5), 0, Streams.EVAL), 5, 3, 1.0, 0.6, 1));
    }

    /** Ten samples of the density and five more pushed out 2.5 times (tails, where log-sum-exp matters). */
    static double[] testPoints(Density p) {
        int d = p.dim();
        double[] s = p.sample(new RandomStream(TestSeeds.fixed(p.name() + " test points", 11), 0, Streams.EVAL), 15);
        for (int i = 10 * d; i < 15 * d; i++) s[i] *= 2.5;
        return s;
    }

    /** Fourth-order central difference (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h of each coordinate. */
    static double[] finiteDifferenceGradient(ToDoubleFunction<double[]> f, double[] x, double h) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double[] y = x.clone();
            double xi = x[i];
            y[i] = xi + h;
            double p1 = f.applyAsDouble(y);
            y[i] = xi - h;
            double m1 = f.applyAsDouble(y);
            y[i] = xi + 2 * h;
            double p2 = f.applyAsDouble(y);
            y[i] = xi - 2 * h;
            double m2 = f.applyAsDouble(y);
            g[i] = (8 * (p1 - m1) - (p2 - m2)) / (12 * h);
        }
        return g;
    }

    /** |a - b| / max(|b|, 1): relative where the score is large, absolute near the modes where it vanishes. */
    static double relativeError(double[] a, double[] b) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            norm += b[i] * b[i];
        }
        return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1);
    }

    @Test
    void scoresMatchFiniteDifferencesOfLogDensity() {
        for (Density p : knownDensities()) {
            int d = p.dim();
            double[] pts = testPoints(p);
            double worst = 0;
            for (int i = 0; i < pts.length / d; i++) {
                double[] x = java.util.Arrays.copyOfRange(pts, i * d, (i + 1) * d);
                double[] fd = finiteDifferenceGradient(p::logDensity, x, 1e-4);
                worst = Math.max(worst, relativeError(p.score(x), fd));
            }
            System.out.printf("%-12s D=%d: worst |score - fd(log p)| / max(|fd|, 1) over %d points = %.2e%n",
                    p.name(), d, pts.length / d, worst);
            assertTrue(worst < 1e-6, p.name() + " score error " + worst);
        }
    }

    @Test
    void noisedScoresMatchFiniteDifferencesOfIndependentNoisedDensities() {
        for (Density p : knownDensities()) {
            assertTrue(p.knownNoisedScore());
            int d = p.dim();
            double[] pts = testPoints(p);
            for (double sigma : SIGMAS) {
                ToDoubleFunction<double[]> reference = independentNoisedLogDensity(p, sigma);
                double worstScore = 0;
                double worstLog = 0;
                for (int i = 0; i < pts.length / d; i++) {
                    double[] x = java.util.Arrays.copyOfRange(pts, i * d, (i + 1) * d);
                    double[] fd = finiteDifferenceGradient(reference, x, 1e-4);
                    worstScore = Math.max(worstScore, relativeError(p.scoreNoised(x, sigma), fd));
                    double logRef = reference.applyAsDouble(x);
                    worstLog = Math.max(worstLog,
                            Math.abs(p.noised(sigma).logDensity(x) - logRef) / Math.max(1, Math.abs(logRef)));
                }
                System.out.printf("%-12s sigma=%.2f: worst noised-score error %.2e, worst log p_sigma error %.2e%n",
                        p.name(), sigma, worstScore, worstLog);
                assertTrue(worstScore < 1e-6, p.name() + " noised score error " + worstScore);
                assertTrue(worstLog < 1e-9, p.name() + " noised log density error " + worstLog);
            }
        }
    }

    /**
     * log of p convolved with N(0, sigma^2 I), computed without the production code: Gaussian mixtures through
     * EJML's inverse and determinant of Sigma_k + sigma^2 I; rings by averaging the Gaussian over 2048 angles on
     * each circle (the trapezoid rule is spectrally accurate for this periodic integrand).
     */
    static ToDoubleFunction<double[]> independentNoisedLogDensity(Density p, double sigma) {
        if (p instanceof RingsDensity rings) {
            double v = rings.variance() + sigma * sigma;
            int m = 2048;
            return x -> {
                int terms = RingsDensity.RADII.length * m;
                double[] logs = new double[terms];
                int t = 0;
                for (double radius : RingsDensity.RADII) {
                    for (int k = 0; k < m; k++) {
                        double a = 2 * Math.PI * k / m;
                        double dx = x[0] - radius * Math.cos(a);
                        double dy = x[1] - radius * Math.sin(a);
                        logs[t++] = -(dx * dx + dy * dy) / (2 * v) - Math.log(2 * Math.PI * v);
                    }
                }
                return logSumExp(logs) - Math.log(terms);
            };
        }
        GaussianMixture mix = p instanceof GaussianDensity g
                ? new GaussianMixture("g", new double[] {1}, new double[][] {g.mean()}, new double[][] {g.covariance()})
                : (GaussianMixture) p;
        int d = mix.dim();
        int k = mix.components();
        DMatrixRMaj[] precisions = new DMatrixRMaj[k];
        double[] logConst = new double[k];
        for (int c = 0; c < k; c++) {
            DMatrixRMaj cov = new DMatrixRMaj(d, d, true, mix.covariance(c));
            for (int i = 0; i < d; i++) cov.add(i, i, sigma * sigma);
            logConst[c] = Math.log(mix.weight(c)) - 0.5 * Math.log(CommonOps_DDRM.det(cov))
                    - 0.5 * d * Math.log(2 * Math.PI);
            precisions[c] = new DMatrixRMaj(d, d);
            CommonOps_DDRM.invert(cov, precisions[c]);
        }
        return x -> {
            double[] logs = new double[k];
            for (int c = 0; c < k; c++) {
                double[] mu = mix.mean(c);
                double q = 0;
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < d; j++) q += (x[i] - mu[i]) * precisions[c].get(i, j) * (x[j] - mu[j]);
                }
                logs[c] = logConst[c] - 0.5 * q;
            }
            return logSumExp(logs);
        };
    }

    static double logSumExp(double[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : v) max = Math.max(max, x);
        double s = 0;
        for (double x : v) s += Math.exp(x - max);
        return max + Math.log(s);
    }

    @Test
    void cleanLogDensitiesEqualTheIndependentOnesAndIntegrateToOne() {
        for (Density p : knownDensities()) {
            ToDoubleFunction<double[]> reference = independentNoisedLogDensity(p, 0);
            double[] pts = testPoints(p);
            int d = p.dim();
            double worst = 0;
            for (int i = 0; i < pts.length / d; i++) {
                double[] x = java.util.Arrays.copyOfRange(pts, i * d, (i + 1) * d);
                double ref = reference.applyAsDouble(x);
                worst = Math.max(worst, Math.abs(p.logDensity(x) - ref) / Math.max(1, Math.abs(ref)));
            }
            System.out.printf("%-12s log p vs independent: worst error %.2e%n", p.name(), worst);
            assertTrue(worst < 1e-9, p.name());
        }
        // Normalisation of the 2-D ones on a grid over [-6, 6]^2 (midpoint rule, 0.02 spacing).
        for (Density p : List.of(ToyDensities.twoPeaks(), ToyDensities.eightGaussians(), ToyDensities.rings(),
                ToyDensities.checkerboard())) {
            double h = 0.02;
            double total = 0;
            double[] x = new double[2];
            for (double a = -6 + h / 2; a < 6; a += h) {
                for (double b = -6 + h / 2; b < 6; b += h) {
                    x[0] = a;
                    x[1] = b;
                    total += Math.exp(p.logDensity(x));
                }
            }
            System.out.printf("%-12s integral of p over [-6,6]^2 = %.6f%n", p.name(), total * h * h);
            assertEquals(1.0, total * h * h, 1e-3, p.name());
        }
    }

    @Test
    void besselHelpersMatchHighPrecisionValues() {
        // mpmath at 30 digits: log(I0(z)) - z and I1(z) / (z I0(z)).
        double[][] table = {
            {0.0, 0.0, 0.5},
            {0.3, -0.27762531137795808566, 0.49445808980291754249},
            {1.0, -0.76408564149282135131, 0.44638996589653450705},
            {10.0, -2.0570279168813044455, 0.094859982595484595897},
            {24.9, -2.5212470440533118839, 0.039345759708255443238},
            {25.1, -2.5252887753860730439, 0.039038758140048321316},
            {60.0, -2.9640098103448573933, 0.016527189168736812874},
            {1400.0, -4.5409629733805544319, 0.00071403056665838720414},
        };
        for (double[] row : table) {
            double logI0 = Bessel.logI0Scaled(row[0]);
            double ratio = Bessel.i1OverZI0(row[0]);
            System.out.printf("z=%7.1f logI0e %.17g (want %.17g)  I1/(z I0) %.17g (want %.17g)%n",
                    row[0], logI0, row[1], ratio, row[2]);
            assertEquals(row[1], logI0, 1e-14 * Math.max(1, Math.abs(row[1])));
            assertEquals(row[2], ratio, 1e-14 * row[2]);
        }
    }

    @Test
    void samplerOnlyToysSayTheirScoreIsUnknown() {
        for (String name : List.of("2spirals", "checkerboard", "moons", "pinwheel", "swissroll")) {
            Density p = DataSources.byName(name, 1, null);
            assertFalse(p.knownScore(), name);
            assertFalse(p.knownNoisedScore(), name);
            assertThrows(UnsupportedOperationException.class, () -> p.score(new double[] {0, 0}));
            System.out.println(name + ": knownScore=false, knownLogDensity=" + p.knownLogDensity());
        }
        assertTrue(DataSources.byName("checkerboard", 1, null).knownLogDensity());
    }
}
