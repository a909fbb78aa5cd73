package ebm.sample;

import ebm.model.EnergyModel;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.tape.Tape;

/**
 * Unadjusted Langevin dynamics x ← x + (ε/2) s(x) + √ε ξ with s = −∇ₓE (DESIGN §3), all chains at once, in fp64: the
 * reference the device sampler ({@code ebm.backend.cuda.DeviceLangevin}) is checked against. Step sizes, and the
 * annealed form's levels, come from {@link LangevinSchedule}. Noise for step t (1-based, counted across levels) is
 * the Gaussian stream (seed, t, LANGEVIN), element chain·D + coordinate.
 */
public final class Langevin {
    private Langevin() {}

    /** Sees the chains after each step t (1-based); the array is the sampler's own, to read, not to keep. */
    @FunctionalInterface
    public interface StepObserver {
        void afterStep(long t, double[] points);
    }

    /**
     * @param init   starting points [n x D], overwritten with the samples
     * @param sigmas noise levels for the annealed form (energy scale 1/σ_i), or null for the plain form
     */
    public static void run(EnergyModel model, double[] params, double[] init, int n, int steps, double stepSize,
                           double[] sigmas, long seed) {
        run(model, params, init, n, new LangevinSchedule(steps, stepSize, sigmas), seed, null);
    }

    public static void run(EnergyModel model, double[] params, double[] init, int n, LangevinSchedule schedule, long seed,
                           StepObserver observer) {
        int d = model.dim();
        if (init.length != (long) n * d) throw new IllegalArgumentException(init.length + " values for " + n + " chains of " + d);
        double[] noise = new double[n * d];
        long t = 0;
        for (int level = 0; level < schedule.levels(); level++) {
            double drift = schedule.drift(level);
            double sqrtEps = schedule.noise(level);
            for (int s = 0; s < schedule.levelSteps(level); s++) {
                t++;
                Tape tape = new Tape();
                double[] grad = model.bind(tape, params, false).gradX(tape.constant(init, n, d)).value;
                new RandomStream(seed, t, Streams.LANGEVIN).fillGaussian(noise, 0, noise.length, 0);
                for (int i = 0; i < init.length; i++) init[i] += drift * grad[i] + sqrtEps * noise[i];
                if (observer != null) observer.afterStep(t, init);
            }
        }
    }
}
