package ebm.sample;

import ebm.model.EnergyModel;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.tape.Tape;

/**
 * Unadjusted Langevin dynamics x ← x + (ε/2) s(x) + √ε ξ with s = −∇ₓE (DESIGN §3), all chains at once. The
 * annealed form runs the levels σ_1 > … > σ_N in turn, an equal share of the steps each, with the level's score
 * s(x, σ_i) = −∇ₓE(x)/σ_i and step α_i = ε·σ_i²/σ_N². Noise for step t is draw (seed, t, LANGEVIN).
 */
public final class Langevin {
    private Langevin() {}

    /**
     * @param init   starting points [n x D], overwritten with the samples
     * @param sigmas noise levels for the annealed form (energy scale 1/σ_i), or null for the plain form
     */
    public static void run(EnergyModel model, double[] params, double[] init, int n, int steps, double stepSize,
                           double[] sigmas, long seed) {
        int d = model.dim();
        double[] noise = new double[n * d];
        int levels = sigmas == null ? 1 : sigmas.length;
        long t = 0;
        for (int level = 0; level < levels; level++) {
            int levelSteps = steps / levels + (level < steps % levels ? 1 : 0);
            double scale = sigmas == null ? 1.0 : 1.0 / sigmas[level];
            double eps = sigmas == null ? stepSize
                    : stepSize * sigmas[level] * sigmas[level] / (sigmas[levels - 1] * sigmas[levels - 1]);
            double sqrtEps = Math.sqrt(eps);
            for (int s = 0; s < levelSteps; s++) {
                t++;
                Tape tape = new Tape();
                double[] grad = model.bind(tape, params, false).gradX(tape.constant(init, n, d)).value;
                new RandomStream(seed, t, Streams.LANGEVIN).fillGaussian(noise, 0, noise.length, 0);
                for (int i = 0; i < init.length; i++) init[i] += -0.5 * eps * scale * grad[i] + sqrtEps * noise[i];
            }
        }
    }
}
