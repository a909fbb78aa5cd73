package ebm.data;

import ebm.rng.RandomStream;

/**
 * "rings" (after FFJORD, Grathwohl et al. 2019): four concentric circles of radii R_j = 0.75, 1.5, 2.25, 3 (FFJORD's
 * 0.25..1 times 3), each chosen with probability 1/4, angle theta uniform on [0, 2 pi), plus N(0, s^2 I) noise
 * with s = 0.08: x = R_j (cos theta, sin theta) + s g. (FFJORD spaces the angles evenly and splits the points
 * evenly over the rings; drawing both at random gives the same density.)
 *
 * <p>The density is closed-form: averaging the Gaussian over the circle gives
 * p_j(x) = exp(-(r^2 + R_j^2) / (2 s^2)) I0(r R_j / s^2) / (2 pi s^2) with r = |x| and I0 the modified Bessel
 * function, so log p_j = -log(2 pi s^2) - (r - R_j)^2 / (2 s^2) + log(I0(z) e^-z), z = r R_j / s^2, and
 * grad log p_j = x (-1/s^2 + (R_j^2 / s^4) I1(z) / (z I0(z))), smooth through r = 0. p = (1/4) sum_j p_j, score by
 * posterior weights. Convolving with N(0, sigma^2 I) replaces s^2 by s^2 + sigma^2.
 *
 * <p>Sampling: sample s uses 2 Gaussian elements and 2 uniform words (ring, angle); see {@link DrawLayout}.
 */
public final class RingsDensity extends PlanarToy implements ClosedFormDensity {
    static final double[] RADII = {0.75, 1.5, 2.25, 3.0};
    static final double NOISE_STD = 0.08;

    private final double variance;
    private final double std;

    public RingsDensity() {
        this(NOISE_STD * NOISE_STD);
    }

    private RingsDensity(double variance) {
        super("rings", new DrawLayout(2, 2));
        this.variance = variance;
        this.std = Math.sqrt(variance);
    }

    /** The total variance s^2 of the Gaussian around each circle. */
    public double variance() {
        return variance;
    }

    @Override
    void draw(RandomStream rng, DrawLayout layout, long s, double[] out, int off) {
        double radius = RADII[rng.below(layout.uniform(s, 0), RADII.length)];
        double theta = 2 * Math.PI * rng.uniform(layout.uniform(s, 1));
        out[off] = radius * Math.cos(theta) + std * rng.gaussian(layout.gaussian(s, 0));
        out[off + 1] = radius * Math.sin(theta) + std * rng.gaussian(layout.gaussian(s, 1));
    }

    private double ringLogDensity(double r, double radius) {
        double z = r * radius / variance;
        double dr = r - radius;
        return -Math.log(2 * Math.PI * variance) - dr * dr / (2 * variance) + Bessel.logI0Scaled(z);
    }

    /** log p_j(r) of every ring into terms; returns their largest, the shift of a stable log-sum-exp. */
    private double ringLogDensities(double r, double[] terms) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < RADII.length; j++) {
            terms[j] = ringLogDensity(r, RADII[j]);
            max = Math.max(max, terms[j]);
        }
        return max;
    }

    @Override
    public double logDensity(double[] x, int off) {
        double r = Math.hypot(x[off], x[off + 1]);
        double[] terms = new double[RADII.length];
        double max = ringLogDensities(r, terms);
        double sum = 0;
        for (double t : terms) sum += Math.exp(t - max);
        return max + Math.log(sum / RADII.length);
    }

    @Override
    public void score(double[] x, int off, double[] out, int outOff) {
        double r = Math.hypot(x[off], x[off + 1]);
        double[] terms = new double[RADII.length];
        double max = ringLogDensities(r, terms);
        double sum = 0;
        double coefficient = 0;
        for (int j = 0; j < RADII.length; j++) {
            double w = Math.exp(terms[j] - max);
            double radius = RADII[j];
            double z = r * radius / variance;
            double c = -1 / variance + radius * radius / (variance * variance) * Bessel.i1OverZI0(z);
            sum += w;
            coefficient += w * c;
        }
        coefficient /= sum;
        out[outOff] = coefficient * x[off];
        out[outOff + 1] = coefficient * x[off + 1];
    }

    @Override
    public RingsDensity noised(double sigma) {
        if (!(sigma >= 0) || !Double.isFinite(sigma)) throw new IllegalArgumentException("noise sigma " + sigma);
        return sigma == 0 ? this : new RingsDensity(variance + sigma * sigma);
    }
}
