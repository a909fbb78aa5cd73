package ebm.data;

import ebm.EbmException;
import ebm.io.Npy;

/**
 * Sample moments, the moment-matched Gaussian of a data set, and the Fisher divergence between two score fields.
 * The trainer reports the Fisher divergence of the moment-matched Gaussian to give a model's number a scale: a
 * model that does no better than the best single Gaussian has learned nothing beyond the first two moments.
 */
public final class Moments {
    private Moments() {}

    /** Column means of n row-major points of dimension d. */
    public static double[] mean(double[] x, int n, int d) {
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += x[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        return mean;
    }

    /** The 1/N (maximum-likelihood) covariance, row-major d x d. */
    public static double[] covariance(double[] x, int n, int d) {
        double[] mean = mean(x, n, d);
        double[] cov = new double[d * d];
        double[] c = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) c[j] = x[i * d + j] - mean[j];
            for (int a = 0; a < d; a++) for (int b = 0; b <= a; b++) cov[a * d + b] += c[a] * c[b];
        }
        for (int a = 0; a < d; a++) {
            for (int b = 0; b <= a; b++) {
                cov[a * d + b] /= n;
                cov[b * d + a] = cov[a * d + b];
            }
        }
        return cov;
    }

    /**
     * N(sample mean, 1/N sample covariance). Its score is -Sigma^-1 (x - mu). Fails with an EbmException when the
     * covariance is singular (fewer points than dimensions, or a constant/collinear column).
     */
    public static GaussianDensity momentMatchedGaussian(Npy.Matrix points) {
        int n = points.rows();
        int d = points.cols();
        double[] cov = covariance(points.data(), n, d);
        if (DenseLinalg.cholesky(cov, d) == null) {
            throw new EbmException("moment-matched Gaussian: the sample covariance of " + n + " points in " + d
                    + " dimensions is singular");
        }
        return new GaussianDensity("moment-matched gaussian", mean(points.data(), n, d), cov);
    }

    /** (1/2) mean over the points of |a(x) - b(x)|^2. */
    public static double fisherDivergence(ScoreFunction a, ScoreFunction b, Npy.Matrix points) {
        int n = points.rows();
        int d = points.cols();
        double[] sa = new double[d];
        double[] sb = new double[d];
        double total = 0;
        for (int i = 0; i < n; i++) {
            a.score(points.data(), i * d, sa, 0);
            b.score(points.data(), i * d, sb, 0);
            double sq = 0;
            for (int j = 0; j < d; j++) {
                double diff = sa[j] - sb[j];
                sq += diff * diff;
            }
            total += sq;
        }
        return 0.5 * total / n;
    }
}
