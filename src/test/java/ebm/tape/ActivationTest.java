package ebm.tape;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** σ′, σ″, σ‴ against central differences of the order below, and the one-pass form against the per-order one. */
class ActivationTest {
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
