package ebm.data;

import ebm.rng.RandomStream;

/**
 * The 2-D toy densities of the density-estimation literature (mostly FFJORD's toy_data.py, Grathwohl et al. 2019),
 * drawn one independent sample at a time from a counter-based stream: where the original splits a batch evenly
 * over classes or uses evenly spaced angles, each sample here draws its class/angle at random, which gives the
 * same density. g, g0, g1 below are standard Gaussians, u, u0, u1, u2 uniforms on (0, 1); each toy's stream use
 * is given as a {@link DrawLayout} (Gaussians, uniform words) per sample.
 *
 * <p>Those that are Gaussian mixtures are returned as {@link GaussianMixture} (exact score and noised score);
 * {@link RingsDensity} has a closed form too. The others have no closed-form density (a curve or a warped
 * Gaussian convolved with noise) and report {@code knownScore() == false}; checkerboard's density is known but
 * piecewise constant, so it has a log-density and no score.
 */
public final class ToyDensities {
    private ToyDensities() {}

    /** two-peaks: (1/2) N((-2, 0), 0.5^2 I) + (1/2) N((2, 0), 0.5^2 I). */
    public static GaussianMixture twoPeaks() {
        return GaussianMixture.isotropic("two-peaks", new double[] {1, 1},
                new double[][] {{-2, 0}, {2, 0}}, 0.5);
    }

    /**
     * 8gaussians: equal mixture of N(c_k, s^2 I), c_k = 2 sqrt(2) (cos(k pi/4), sin(k pi/4)), k = 0..7,
     * s = 0.5 / sqrt(2) ~ 0.354. This is FFJORD's: centres on the unit circle times 4, std 0.5, all divided by 1.414
     * (we divide by sqrt(2) exactly).
     */
    public static GaussianMixture eightGaussians() {
        double[][] centres = new double[8][];
        double radius = 2 * Math.sqrt(2);
        for (int k = 0; k < 8; k++) {
            double a = k * Math.PI / 4;
            centres[k] = new double[] {radius * Math.cos(a), radius * Math.sin(a)};
        }
        double[] w = new double[8];
        java.util.Arrays.fill(w, 1);
        return GaussianMixture.isotropic("8gaussians", w, centres, 0.5 / Math.sqrt(2));
    }

    public static RingsDensity rings() {
        return new RingsDensity();
    }

    /**
     * 2spirals (FFJORD): t = 3 pi sqrt(u0) (540 degrees), a branch b = +1 or -1 with probability 1/2 (top bit of a
     * uniform word), x = b (-t cos t + 0.5 u1, t sin t + 0.5 u2) / 3 + 0.1 (g0, g1). No closed-form density.
     */
    public static Density twoSpirals() {
        return new SamplerOnlyToy("2spirals", new DrawLayout(2, 4)) {
            @Override
            void draw(RandomStream rng, DrawLayout l, long s, double[] out, int off) {
                double t = 3 * Math.PI * Math.sqrt(rng.uniform(l.uniform(s, 0)));
                double b = rng.rademacher(l.uniform(s, 3));
                out[off] = b * (-t * Math.cos(t) + 0.5 * rng.uniform(l.uniform(s, 1))) / 3
                        + 0.1 * rng.gaussian(l.gaussian(s, 0));
                out[off + 1] = b * (t * Math.sin(t) + 0.5 * rng.uniform(l.uniform(s, 2))) / 3
                        + 0.1 * rng.gaussian(l.gaussian(s, 1));
            }
        };
    }

    /**
     * checkerboard (FFJORD): a = 4 u0 - 2, b = u1 - 2 k + (floor(a) mod 2) with k in {0, 1} equally likely,
     * x = 2 (a, b). The result is uniform on the 8 squares of side 2 in [-4, 4]^2 whose cell indices
     * (floor(x1/2), floor(x2/2)) have an even sum: p = 1/32 there, 0 elsewhere. Log-density known, score not
     * (zero inside the squares, undefined on their edges).
     */
    public static Density checkerboard() {
        return new SamplerOnlyToy("checkerboard", new DrawLayout(0, 3)) {
            @Override
            void draw(RandomStream rng, DrawLayout l, long s, double[] out, int off) {
                double a = 4 * rng.uniform(l.uniform(s, 0)) - 2;
                int k = rng.below(l.uniform(s, 2), 2);
                double b = rng.uniform(l.uniform(s, 1)) - 2 * k + Math.floorMod((int) Math.floor(a), 2);
                out[off] = 2 * a;
                out[off + 1] = 2 * b;
            }

            @Override
            public boolean knownLogDensity() {
                return true;
            }

            @Override
            public double logDensity(double[] x, int off) {
                double cx = Math.floor(x[off] / 2);
                double cy = Math.floor(x[off + 1] / 2);
                boolean inside = cx >= -2 && cx <= 1 && cy >= -2 && cy <= 1 && Math.floorMod((long) (cx + cy), 2) == 0;
                return inside ? -Math.log(32) : Double.NEGATIVE_INFINITY;
            }
        };
    }

    /**
     * moons (scikit-learn's make_moons with noise 0.1): t = pi u0; the upper moon (cos t, sin t) or the lower moon
     * (1 - cos t, 1/2 - sin t), each with probability 1/2; plus 0.1 (g0, g1). No closed-form density.
     */
    public static Density moons() {
        return new SamplerOnlyToy("moons", new DrawLayout(2, 2)) {
            @Override
            void draw(RandomStream rng, DrawLayout l, long s, double[] out, int off) {
                double t = Math.PI * rng.uniform(l.uniform(s, 0));
                boolean upper = rng.below(l.uniform(s, 1), 2) == 0;
                double x = upper ? Math.cos(t) : 1 - Math.cos(t);
                double y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
                out[off] = x + 0.1 * rng.gaussian(l.gaussian(s, 0));
                out[off + 1] = y + 0.1 * rng.gaussian(l.gaussian(s, 1));
            }
        };
    }

    /**
     * pinwheel (FFJORD, from Johnson et al. 2016): 5 arms, arm k uniform on 0..4; (f0, f1) = (1 + 0.3 g0, 0.1 g1);
     * angle a = 2 pi k / 5 + 0.25 exp(f0); x = 2 (f0 cos a + f1 sin a, -f0 sin a + f1 cos a), i.e. f rotated by
     * -a. No closed-form density (the rotation angle depends on f0).
     */
    public static Density pinwheel() {
        return new SamplerOnlyToy("pinwheel", new DrawLayout(2, 1)) {
            @Override
            void draw(RandomStream rng, DrawLayout l, long s, double[] out, int off) {
                int arm = rng.below(l.uniform(s, 0), 5);
                double f0 = 1 + 0.3 * rng.gaussian(l.gaussian(s, 0));
                double f1 = 0.1 * rng.gaussian(l.gaussian(s, 1));
                double a = 2 * Math.PI * arm / 5 + 0.25 * Math.exp(f0);
                double c = Math.cos(a);
                double sn = Math.sin(a);
                out[off] = 2 * (f0 * c + f1 * sn);
                out[off + 1] = 2 * (-f0 * sn + f1 * c);
            }
        };
    }

    /**
     * swissroll (FFJORD: scikit-learn's make_swiss_roll with noise 1, coordinates x and z, divided by 5):
     * t = 1.5 pi (1 + 2 u), x = (t cos t + g0, t sin t + g1) / 5. No closed-form density.
     */
    public static Density swissRoll() {
        return new SamplerOnlyToy("swissroll", new DrawLayout(2, 1)) {
            @Override
            void draw(RandomStream rng, DrawLayout l, long s, double[] out, int off) {
                double t = 1.5 * Math.PI * (1 + 2 * rng.uniform(l.uniform(s, 0)));
                out[off] = (t * Math.cos(t) + rng.gaussian(l.gaussian(s, 0))) / 5;
                out[off + 1] = (t * Math.sin(t) + rng.gaussian(l.gaussian(s, 1))) / 5;
            }
        };
    }

    /** A 2-D toy we can only sample. */
    private abstract static class SamplerOnlyToy extends PlanarToy {
        SamplerOnlyToy(String name, DrawLayout layout) {
            super(name, layout);
        }

        @Override
        public boolean knownScore() {
            return false;
        }
    }
}
