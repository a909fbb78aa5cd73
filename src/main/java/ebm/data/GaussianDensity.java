package ebm.data;

import ebm.EbmException;
import ebm.rng.RandomStream;

/**
 * N(mu, Sigma) in D dimensions, normalised; score -Sigma^-1 (x - mu); noised: N(mu, Sigma + sigma^2 I). Sampling
 * and evaluation are those of a one-component {@link GaussianMixture}.
 */
public final class GaussianDensity implements ClosedFormDensity {
    private final GaussianMixture single;

    /** Sigma is row-major D x D, symmetric positive definite. */
    public GaussianDensity(double[] mean, double[] covariance) {
        this("gaussian", mean, covariance);
    }

    GaussianDensity(String name, double[] mean, double[] covariance) {
        this.single = new GaussianMixture(name, new double[] {1}, new double[][] {mean}, new double[][] {covariance});
    }

    private GaussianDensity(GaussianMixture single) {
        this.single = single;
    }

    /**
     * mu ~ meanScale N(0, I) and Sigma = scale^2 Q diag(lambda) Q^T with Q Haar-random orthogonal (QR of a Gaussian
     * matrix, signs fixed) and lambda_i = conditionNumber^(-i/(D-1)), i = 0..D-1: eigenvalues log-spaced from
     * scale^2 down to scale^2 / conditionNumber. Parameters are read from the stream in order: the mean (D
     * Gaussians), then Q (D*D Gaussians).
     */
    public static GaussianDensity random(RandomStream params, int dim, double meanScale, double scale,
                                         double conditionNumber) {
        if (dim < 1 || !(conditionNumber >= 1) || !(scale > 0) || !(meanScale >= 0)) {
            throw new EbmException("gaussian: need dim >= 1, condition number >= 1, scale > 0, mean scale >= 0 (got dim "
                    + dim + ", condition number " + conditionNumber + ", scale " + scale + ", mean scale "
                    + meanScale + ")");
        }
        SequentialDraws draws = new SequentialDraws(params);
        double[] mean = new double[dim];
        for (int i = 0; i < dim; i++) mean[i] = meanScale * draws.gaussian();
        double[] q = DenseLinalg.randomOrthogonal(draws, dim);
        double[] cov = DenseLinalg.fromEigen(q, DenseLinalg.logSpacedEigenvalues(dim, conditionNumber, scale), dim);
        return new GaussianDensity(mean, cov);
    }

    public double[] mean() {
        return single.mean(0);
    }

    public double[] covariance() {
        return single.covariance(0);
    }

    @Override
    public String name() {
        return single.name();
    }

    @Override
    public int dim() {
        return single.dim();
    }

    @Override
    public double[] sample(RandomStream rng, long firstSample, int n) {
        return single.sample(rng, firstSample, n);
    }

    @Override
    public double logDensity(double[] x, int off) {
        return single.logDensity(x, off);
    }

    @Override
    public void score(double[] x, int off, double[] out, int outOff) {
        single.score(x, off, out, outOff);
    }

    @Override
    public GaussianDensity noised(double sigma) {
        GaussianMixture n = single.noised(sigma);
        return n == single ? this : new GaussianDensity(n);
    }
}
