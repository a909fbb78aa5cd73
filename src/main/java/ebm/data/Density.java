package ebm.data;

import ebm.rng.RandomStream;

/**
 * A probability density on R^D that can be sampled and, where known, evaluated.
 *
 * <p>Sampling is counter-based like {@link RandomStream}: sample j of a stream depends only on the stream's key
 * (seed, step, stream id) and j, so {@code sample(rng, 0, 100)} and {@code sample(rng, 50, 50)} agree on samples
 * 50..99. Each density documents how many stream elements one sample consumes (see {@link DrawLayout}).
 *
 * <p>{@link #logDensity} is normalised for every density in this package that reports
 * {@link #knownLogDensity()}. {@link #score} is the exact gradient of log p. {@link #scoreNoised} is the exact
 * score of p convolved with N(0, sigma^2 I), which the evaluation of denoising objectives compares against.
 */
public interface Density extends ScoreFunction {
    /** The registry name ("two-peaks", "gaussian", ...). */
    String name();

    int dim();

    /** Samples firstSample .. firstSample+n-1 of this density for the given stream, row-major n x dim(). */
    double[] sample(RandomStream rng, long firstSample, int n);

    default double[] sample(RandomStream rng, int n) {
        return sample(rng, 0, n);
    }

    /** Whether {@link #logDensity} and {@link #score} are available in closed form. */
    boolean knownScore();

    /** Whether {@link #logDensity} is available (true for every known score; also for piecewise-constant ones). */
    default boolean knownLogDensity() {
        return knownScore();
    }

    /** Whether {@link #scoreNoised} and {@link #noised} are available in closed form. */
    default boolean knownNoisedScore() {
        return false;
    }

    /** Normalised log p(x) at x[off .. off+D). */
    default double logDensity(double[] x, int off) {
        throw new UnsupportedOperationException(name() + " has no closed-form density");
    }

    /** out[outOff ..] = grad_x log p(x) at x[off ..]. */
    @Override
    default void score(double[] x, int off, double[] out, int outOff) {
        throw new UnsupportedOperationException(name() + " has no closed-form score");
    }

    /** The density of X + sigma Z, Z ~ N(0, I) independent of X ~ p. */
    default Density noised(double sigma) {
        throw new UnsupportedOperationException(name() + " has no closed-form noised density");
    }

    /** The score of {@link #noised noised(sigma)} at x[off ..]. */
    default void scoreNoised(double[] x, int off, double sigma, double[] out, int outOff) {
        noised(sigma).score(x, off, out, outOff);
    }

    default double logDensity(double[] x) {
        return logDensity(x, 0);
    }

    default double[] score(double[] x) {
        double[] out = new double[dim()];
        score(x, 0, out, 0);
        return out;
    }

    default double[] scoreNoised(double[] x, double sigma) {
        double[] out = new double[dim()];
        scoreNoised(x, 0, sigma, out, 0);
        return out;
    }

    /** Scores of n row-major points into out (n x dim()). */
    default void scores(double[] points, int n, double[] out) {
        int d = dim();
        for (int i = 0; i < n; i++) score(points, i * d, out, i * d);
    }
}
