package ebm;

import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.rng.RandomStream;
import ebm.tape.Activation;

/** Small random models and inputs for the reference tests. */
public final class TestNets {
    private TestNets() {}

    /** 1-, 2- and 3-layer nets with unequal widths; two of them have D > H₁ so row-space is a real factorisation. */
    public static final int[][] SHAPES = {
        {3, 5},
        {5, 3, 4},
        {4, 6, 3, 5},
        {7, 4, 5, 3},
    };

    public static MlpSpec spec(int[] shape, Activation act) {
        return new MlpSpec(shape[0], java.util.Arrays.copyOfRange(shape, 1, shape.length), act);
    }

    /** Parameters drawn at a larger scale than the default init, so every activation works in its curved range. */
    public static double[] params(Mlp mlp, long seed) {
        double[] p = mlp.initialParams(seed);
        RandomStream rng = new RandomStream(seed, 99, 0);
        for (int i = 0; i < p.length; i++) p[i] = 0.5 * p[i] + 0.6 * rng.gaussian(i);
        return p;
    }

    public static double[] points(int n, int d, long seed) {
        double[] x = new double[n * d];
        new RandomStream(seed, 7, 0).fillGaussian(x, 0, x.length, 0);
        return x;
    }

    public static double relativeError(double[] a, double[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }

    /** Index of the worst absolute disagreement, for printing. */
    public static int worst(double[] a, double[] b) {
        int w = 0;
        for (int i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > Math.abs(a[w] - b[w])) w = i;
        return w;
    }
}
