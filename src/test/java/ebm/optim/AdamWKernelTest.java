package ebm.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ebm.TestSeeds;
import ebm.linalg.CpuThreads;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vectorised, multi-threaded AdamW step gives the bits of the plain scalar loop (torch.optim.AdamW's order,
 * kept here as the reference), over ranges with odd lengths and vector tails, on one thread and on two.
 */
class AdamWKernelTest {

    /** The scalar reference: one loop over the owned ranges, as the step was first written. */
    private static double scalarStep(double[] params, double[] grad, double[] m, double[] v, int[] starts, int[] lengths,
                                     AdamWOptions o, long step) {
        double lr = o.lr(), beta1 = o.beta1(), beta2 = o.beta2(), eps = o.eps();
        double decayFactor = 1 - lr * o.weightDecay();
        double stepSize = lr / (1 - Math.pow(beta1, step));
        double bc2 = Math.sqrt(1 - Math.pow(beta2, step));
        double min = Double.POSITIVE_INFINITY, max = 0;
        int j = 0;
        for (int r = 0; r < starts.length; r++) {
            for (int i = starts[r]; i < starts[r] + lengths[r]; i++, j++) {
                double g = grad[i];
                double p = params[i] * decayFactor;
                m[j] = m[j] * beta1 + (1 - beta1) * g;
                v[j] = v[j] * beta2 + (1 - beta2) * g * g;
                double denom = Math.sqrt(v[j]) / bc2 + eps;
                params[i] = p + (-stepSize * m[j]) / denom;
                min = Math.min(min, denom);
                max = Math.max(max, denom);
            }
        }
        return max / min;
    }

    private static void compare(int size, int[] starts, int[] lengths, int threads) {
        AdamWOptions options = new AdamWOptions(3e-3, 0.9, 0.999, 1e-8, 0.01);
        Random random = new Random(TestSeeds.fixed("AdamW " + size + " parameters, " + threads + " thread(s)", size * 31L + threads));
        double[] params = new double[size];
        for (int i = 0; i < size; i++) params[i] = random.nextGaussian();
        double[] expected = params.clone();
        int owned = 0;
        for (int l : lengths) owned += l;
        double[] m = new double[owned], v = new double[owned];
        AdamW adam = new AdamW(options, size, starts, lengths);
        for (long step = 1; step <= 3; step++) {
            double[] grad = new double[size];
            for (int i = 0; i < size; i++) grad[i] = random.nextGaussian() * (1 + i % 7);
            double spread = scalarStep(expected, grad, m, v, starts, lengths, options, step);
            CpuThreads.withThreads(threads, () -> adam.step(params, grad, 1.0));
            assertArrayEquals(expected, params, "parameters after step " + step + ", " + threads + " thread(s)");
            assertArrayEquals(m, adam.state().get("exp_avg"));
            assertArrayEquals(v, adam.state().get("exp_avg_sq"));
            assertEquals(spread, adam.diagnostics().get("adam_v_spread"));
        }
        System.out.printf("AdamW over %d of %d parameters in %d range(s), %d thread(s): 3 steps bitwise equal to the scalar loop%n",
                owned, size, starts.length, threads);
    }

    @Test
    void vectorLanesAndThreadsGiveTheScalarLoopsBits() {
        for (int threads : new int[] {1, 2}) {
            compare(13, new int[] {0}, new int[] {13}, threads);
            compare(1000, new int[] {3, 200, 517}, new int[] {101, 300, 483}, threads);
            // above the parallel threshold, with range boundaries that split across the threads' chunks
            compare(300_001, new int[] {0, 70_001, 150_000}, new int[] {70_001, 79_999, 150_001}, threads);
        }
    }
}
