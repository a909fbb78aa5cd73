package ebm.eval;

import java.util.Arrays;

/**
 * Sample-quality measures. MMD² between two point sets with an RBF kernel exp(−‖x−y‖²/(2h²)), h the median pairwise
 * distance of the pooled points (unbiased U-statistic); KSD² of points under a score function with the IMQ kernel
 * (1 + ‖x−y‖²)^(−1/2) (Gorham and Mackey 2017), also a U-statistic. Both are O(n²): callers pass a few thousand
 * points at most.
 */
public final class SampleMetrics {
    private SampleMetrics() {}

    private static double sqDist(double[] a, int i, double[] b, int j, int d) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            double diff = a[i * d + k] - b[j * d + k];
            s += diff * diff;
        }
        return s;
    }

    /** Median of pairwise distances over (at most) the first 500 points of each set, pooled. */
    static double medianDistance(double[] x, int n, double[] y, int m, int d) {
        int nx = Math.min(n, 500), ny = Math.min(m, 500);
        double[] pool = new double[(nx + ny) * d];
        System.arraycopy(x, 0, pool, 0, nx * d);
        System.arraycopy(y, 0, pool, nx * d, ny * d);
        int p = nx + ny;
        double[] dists = new double[p * (p - 1) / 2];
        int c = 0;
        for (int i = 0; i < p; i++) for (int j = i + 1; j < p; j++) dists[c++] = Math.sqrt(sqDist(pool, i, pool, j, d));
        Arrays.sort(dists);
        double med = dists[dists.length / 2];
        return med > 0 ? med : 1.0;
    }

    public static double mmdSquared(double[] x, int n, double[] y, int m, int d) {
        double h = medianDistance(x, n, y, m, d);
        double g = 1.0 / (2 * h * h);
        double kxx = 0, kyy = 0, kxy = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) if (i != j) kxx += Math.exp(-g * sqDist(x, i, x, j, d));
        for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) if (i != j) kyy += Math.exp(-g * sqDist(y, i, y, j, d));
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) kxy += Math.exp(-g * sqDist(x, i, y, j, d));
        return kxx / ((double) n * (n - 1)) + kyy / ((double) m * (m - 1)) - 2 * kxy / ((double) n * m);
    }

    /** KSD² of points x under the score s (s given at the points, [n x D]), IMQ kernel with c = 1, β = −1/2. */
    public static double ksdSquared(double[] x, double[] s, int n, int d) {
        final double beta = -0.5;
        double total = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i == j) continue;
                double r2 = sqDist(x, i, x, j, d);
                double q = 1 + r2;
                double k = Math.pow(q, beta);
                double dk = 2 * beta * Math.pow(q, beta - 1); // ∇ₓk = dk·r, ∇_y k = −dk·r, r = x_i − x_j
                double ss = 0, sxr = 0, syr = 0;
                for (int a = 0; a < d; a++) {
                    double r = x[i * d + a] - x[j * d + a];
                    ss += s[i * d + a] * s[j * d + a];
                    sxr += s[i * d + a] * r;
                    syr += s[j * d + a] * r;
                }
                double trace = -2 * beta * (d * Math.pow(q, beta - 1) + 2 * (beta - 1) * Math.pow(q, beta - 2) * r2);
                total += ss * k - dk * sxr + dk * syr + trace;
            }
        }
        return total / ((double) n * (n - 1));
    }
}
