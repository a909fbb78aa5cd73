package ebm.tape;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ebm.TestSeeds;
import java.util.Random;
import org.junit.jupiter.api.Test;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * σ′, σ″, σ‴ against central differences of the order below, the one-pass form against the per-order one, the
 * polynomial exponential and logarithm against the JDK's, and the array form's lanes against its scalar tail.
 */
class ActivationTest {
    @Test
    void thePolynomialExpAndLogAreWithinThreeUlpsOfTheJdks() {
        long seed = TestSeeds.seed("Activation exp/log1p arguments");
        Random random = new Random(seed);
        double worstExp = 0, worstLog = 0;
        for (int i = 0; i < 200_000; i++) {
            double x = -Math.abs(random.nextGaussian()) * (i % 3 == 0 ? 200 : 4);
            double ref = StrictMath.exp(x);
            if (ref >= 0x1.0001p-1022) worstExp = Math.max(worstExp, Math.abs(Activation.expNonPositive(x) - ref) / Math.ulp(ref));
            double e = random.nextDouble() * (i % 5 == 0 ? 1e-10 : 1);
            double log = StrictMath.log1p(e);
            if (log > 0) worstLog = Math.max(worstLog, Math.abs(Activation.log1pUnit(e) - log) / Math.ulp(log));
        }
        double tiny = Activation.expNonPositive(-800);
        System.out.printf("seed %d: exp worst %.2f ulp, log1p worst %.2f ulp over 200000 arguments; exp(-800) -> %.3g, "
                + "exp(0) = %s, log1p(0) = %s, log1p(1) = %s%n", seed, worstExp, worstLog, tiny, Activation.expNonPositive(0),
                Activation.log1pUnit(0), Activation.log1pUnit(1));
        assertEquals(0, worstExp, 3.0);
        assertEquals(0, worstLog, 3.0);
        assertEquals(1.0, Activation.expNonPositive(0));
        assertEquals(0.0, Activation.log1pUnit(0));
        assertEquals(Math.log(2), Activation.log1pUnit(1), Math.ulp(Math.log(2)));
        assertEquals(Double.MIN_NORMAL, tiny, 1e-3 * Double.MIN_NORMAL, "below the clamp: about the smallest normal, not a wrong power");
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void everyElementHasTheSameBitsInALaneAndInTheScalarTail(Activation act) {
        // the tail runs the scalar form: a different lane width moves which elements are tail, so both must agree
        long seed = TestSeeds.seed("Activation lanes " + act);
        Random random = new Random(seed);
        int n = 1003;
        double[] zs = new double[n];
        for (int i = 0; i < n; i++) zs[i] = random.nextGaussian() * (i % 4 == 0 ? 40 : 3);
        double[][] arr = new double[4][n];
        act.derivatives(zs, arr);
        double[] one = new double[4];
        int differing = 0;
        for (int i = 0; i < n; i++) {
            act.derivatives(zs[i], one);
            for (int k = 0; k < 4; k++) if (Double.doubleToRawLongBits(one[k]) != Double.doubleToRawLongBits(arr[k][i])) differing++;
        }
        System.out.printf("%-9s seed %d: %d of %d values differ between the array form and the scalar form%n",
                act.configName(), seed, differing, 4 * n);
        assertEquals(0, differing);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void derivativesMatchFiniteDifferencesAndTheOnePassForm(Activation act) {
        double worstFd = 0, worstPass = 0;
        double[] all = new double[4];
        for (double z = -12; z <= 12; z += 0.37) {
            act.derivatives(z, all);
            for (int k = 0; k < 4; k++) {
                double ref = act.derivative(k, z);
                worstPass = Math.max(worstPass, Math.abs(all[k] - ref) / Math.max(1e-300, Math.abs(ref) + 1e-12));
                if (k > 0) {
                    double h = 1e-5;
                    double fd = (act.derivative(k - 1, z + h) - act.derivative(k - 1, z - h)) / (2 * h);
                    worstFd = Math.max(worstFd, Math.abs(fd - ref) / Math.max(1, Math.abs(ref)));
                }
            }
        }
        // the array form (vectorised for softplus and silu) against the scalar one
        int n = 1001;
        double[] zs = new double[n];
        for (int i = 0; i < n; i++) zs[i] = -30 + 60.0 * i / (n - 1);
        double[][] arr = new double[4][n];
        act.derivatives(zs, arr);
        double worstArray = 0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 4; k++) {
                double ref = act.derivative(k, zs[i]);
                worstArray = Math.max(worstArray, Math.abs(arr[k][i] - ref) / (Math.abs(ref) + 1e-300));
            }
        }
        System.out.printf("%-9s worst |σ^(k) − fd| %.1e, one-pass vs per-order rel %.1e, array form rel %.1e%n",
                act.configName(), worstFd, worstPass, worstArray);
        assertEquals(0, worstArray, 1e-12);
        assertEquals(0, worstFd, 1e-8);
        assertEquals(0, worstPass, 1e-13);
    }
}
