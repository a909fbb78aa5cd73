package ebm.data;

import ebm.EbmException;
import ebm.rng.RandomStream;

/**
 * p(x) = sum_k w_k N(x; mu_k, Sigma_k), normalised. The score is the posterior-weighted sum of the component scores,
 * grad log p(x) = sum_k r_k(x) (-Sigma_k^-1 (x - mu_k)) with r_k = w_k N_k(x) / p(x) computed by log-sum-exp so
 * that far-away points do not underflow. Convolving with N(0, sigma^2 I) adds sigma^2 I to every covariance, so the
 * noised density is again a mixture of this class.
 *
 * <p>Sampling (see {@link DrawLayout}): sample s uses D Gaussian elements and one uniform word; the word picks the
 * component k with probability w_k (inverse CDF of its uniform), and x = mu_k + L_k g with L_k the lower Cholesky
 * factor of Sigma_k.
 */
public final class GaussianMixture implements ClosedFormDensity {
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private final String name;
    private final int dim;
    private final double[] weights;
    private final double[] cumulativeWeights;
    private final double[][] means;
    private final double[][] covariances;
    private final double[][] choleskyFactors;
    /** log w_k - (1/2) log det Sigma_k - (D/2) log 2 pi. */
    private final double[] logNormalisers;
    private final DrawLayout layout;
    private volatile NoisedCache noisedCache;

    private record NoisedCache(double sigma, GaussianMixture density) {}

    /** Weights are normalised to sum 1; each covariance is a row-major D x D symmetric positive-definite matrix. */
    public GaussianMixture(String name, double[] weights, double[][] means, double[][] covariances) {
        int k = weights.length;
        if (k == 0 || means.length != k || covariances.length != k) {
            throw new EbmException("mixture '" + name + "': need matching, non-empty weights, means, covariances (got "
                    + k + ", " + means.length + ", " + covariances.length + ")");
        }
        this.name = name;
        this.dim = means[0].length;
        double total = 0;
        for (int c = 0; c < k; c++) {
            if (!(weights[c] > 0) || !Double.isFinite(weights[c])) {
                throw new EbmException("mixture '" + name + "': weight " + c + " is " + weights[c]
                        + " (must be positive and finite)");
            }
            total += weights[c];
        }
        this.weights = new double[k];
        this.cumulativeWeights = new double[k];
        this.means = new double[k][];
        this.covariances = new double[k][];
        this.choleskyFactors = new double[k][];
        this.logNormalisers = new double[k];
        double running = 0;
        for (int c = 0; c < k; c++) {
            if (means[c].length != dim || covariances[c].length != dim * dim) {
                throw new EbmException("mixture '" + name + "': component " + c + " has mean of length "
                        + means[c].length + " and covariance of " + covariances[c].length + " entries; expected "
                        + dim + " and " + dim * dim);
            }
            this.weights[c] = weights[c] / total;
            running += this.weights[c];
            this.cumulativeWeights[c] = running;
            this.means[c] = means[c].clone();
            this.covariances[c] = covariances[c].clone();
            double[] l = DenseLinalg.cholesky(covariances[c], dim);
            if (l == null) {
                throw new EbmException("mixture '" + name + "': covariance of component " + c
                        + " is not positive definite");
            }
            this.choleskyFactors[c] = l;
            this.logNormalisers[c] = Math.log(this.weights[c]) - 0.5 * DenseLinalg.logDet(l, dim) - 0.5 * dim * LOG_2PI;
        }
        this.cumulativeWeights[k - 1] = 1.0; // guard the inverse CDF against rounding in the running sum
        this.layout = new DrawLayout(dim, 1);
    }

    /** Every component has covariance std^2 I. */
    public static GaussianMixture isotropic(String name, double[] weights, double[][] means, double std) {
        double[][] covs = new double[means.length][];
        for (int c = 0; c < means.length; c++) covs[c] = scaledIdentity(means[c].length, std * std);
        return new GaussianMixture(name, weights, means, covs);
    }

    /**
     * K equally weighted components with means mu_k ~ meanScale N(0, I). With conditionNumber 1 the covariances are
     * componentStd^2 I; otherwise Sigma_k = componentStd^2 Q_k diag(lambda) Q_k^T, Q_k Haar-random orthogonal and
     * lambda_i = conditionNumber^(-i/(D-1)) (log-spaced from 1 down to 1/conditionNumber, so the largest variance
     * is componentStd^2). Parameters are read from the stream in order: all means (K*D Gaussians), then each Q_k
     * (D*D Gaussians each).
     */
    public static GaussianMixture random(RandomStream params, int dim, int components, double meanScale,
                                         double componentStd, double conditionNumber) {
        if (dim < 1 || components < 1 || !(conditionNumber >= 1) || !(componentStd > 0) || !(meanScale >= 0)) {
            throw new EbmException("mixture: need dim >= 1, components >= 1, condition number >= 1, std > 0 and "
                    + "mean scale >= 0 (got dim " + dim + ", components " + components + ", condition number "
                    + conditionNumber + ", std " + componentStd + ", mean scale " + meanScale + ")");
        }
        SequentialDraws draws = new SequentialDraws(params);
        double[][] means = new double[components][dim];
        for (double[] m : means) for (int i = 0; i < dim; i++) m[i] = meanScale * draws.gaussian();
        double[][] covs = new double[components][];
        double[] ev = DenseLinalg.logSpacedEigenvalues(dim, conditionNumber, componentStd);
        for (int c = 0; c < components; c++) {
            covs[c] = conditionNumber == 1
                    ? scaledIdentity(dim, componentStd * componentStd)
                    : DenseLinalg.fromEigen(DenseLinalg.randomOrthogonal(draws, dim), ev, dim);
        }
        double[] w = new double[components];
        java.util.Arrays.fill(w, 1.0);
        return new GaussianMixture("mixture", w, means, covs);
    }

    static double[] scaledIdentity(int d, double v) {
        double[] m = new double[d * d];
        for (int i = 0; i < d; i++) m[i * d + i] = v;
        return m;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int dim() {
        return dim;
    }

    public int components() {
        return weights.length;
    }

    public double weight(int k) {
        return weights[k];
    }

    public double[] mean(int k) {
        return means[k].clone();
    }

    public double[] covariance(int k) {
        return covariances[k].clone();
    }

    @Override
    public double[] sample(RandomStream rng, long firstSample, int n) {
        double[] out = new double[n * dim];
        double[] g = new double[dim];
        for (int s = 0; s < n; s++) {
            long index = firstSample + s;
            int k = pickComponent(rng.uniform(layout.uniform(index, 0)));
            for (int i = 0; i < dim; i++) g[i] = rng.gaussian(layout.gaussian(index, i));
            double[] l = choleskyFactors[k];
            double[] mu = means[k];
            for (int i = 0; i < dim; i++) {
                double v = mu[i];
                for (int j = 0; j <= i; j++) v += l[i * dim + j] * g[j];
                out[s * dim + i] = v;
            }
        }
        return out;
    }

    private int pickComponent(double u) {
        for (int k = 0; k < cumulativeWeights.length; k++) if (u < cumulativeWeights[k]) return k;
        return cumulativeWeights.length - 1;
    }

    /** log w_k N_k(x) for component k; leaves L_k^-1 (x - mu_k) in work. */
    private double componentLogTerm(int k, double[] x, int off, double[] work) {
        double[] mu = means[k];
        for (int i = 0; i < dim; i++) work[i] = x[off + i] - mu[i];
        DenseLinalg.forwardSolve(choleskyFactors[k], dim, work);
        double maha = 0;
        for (int i = 0; i < dim; i++) maha += work[i] * work[i];
        return logNormalisers[k] - 0.5 * maha;
    }

    @Override
    public double logDensity(double[] x, int off) {
        double[] work = new double[dim];
        int kCount = weights.length;
        double[] terms = new double[kCount];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < kCount; k++) {
            terms[k] = componentLogTerm(k, x, off, work);
            max = Math.max(max, terms[k]);
        }
        double sum = 0;
        for (int k = 0; k < kCount; k++) sum += Math.exp(terms[k] - max);
        return max + Math.log(sum);
    }

    @Override
    public void score(double[] x, int off, double[] out, int outOff) {
        int kCount = weights.length;
        double[] terms = new double[kCount];
        double[][] componentScores = new double[kCount][];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < kCount; k++) {
            double[] work = new double[dim];
            terms[k] = componentLogTerm(k, x, off, work);
            // -Sigma^-1 (x - mu) = -L^-T (L^-1 (x - mu))
            DenseLinalg.backSolveTransposed(choleskyFactors[k], dim, work);
            componentScores[k] = work;
            max = Math.max(max, terms[k]);
        }
        double sum = 0;
        for (int k = 0; k < kCount; k++) {
            terms[k] = Math.exp(terms[k] - max);
            sum += terms[k];
        }
        for (int i = 0; i < dim; i++) out[outOff + i] = 0;
        for (int k = 0; k < kCount; k++) {
            double r = terms[k] / sum;
            double[] sk = componentScores[k];
            for (int i = 0; i < dim; i++) out[outOff + i] -= r * sk[i];
        }
    }

    /** The same mixture with sigma^2 I added to every covariance (the last one asked for is cached). */
    @Override
    public GaussianMixture noised(double sigma) {
        if (!(sigma >= 0) || !Double.isFinite(sigma)) throw new IllegalArgumentException("noise sigma " + sigma);
        if (sigma == 0) return this;
        NoisedCache cached = noisedCache;
        if (cached != null && cached.sigma() == sigma) return cached.density();
        double[][] covs = new double[weights.length][];
        for (int k = 0; k < weights.length; k++) {
            covs[k] = covariances[k].clone();
            for (int i = 0; i < dim; i++) covs[k][i * dim + i] += sigma * sigma;
        }
        GaussianMixture noised = new GaussianMixture(name, weights, means, covs);
        noisedCache = new NoisedCache(sigma, noised);
        return noised;
    }
}
