package ebm.sample;

import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.tape.Node;
import ebm.tape.Tape;
import ebm.tape.Tensor;

/**
 * Unadjusted Langevin dynamics x ← x + (ε/2) s(x) + √ε ξ with s = −∇ₓE, all chains at once. {@link #step} is the
 * algorithm, written once over the op interface; {@link #run} drives it on the CPU in fp64, the reference the device
 * sampler (DeviceLangevin in the CUDA backend, the same step on the device tape) is checked against. Step sizes, and the
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

    /** A backend's update of the chains from ∇ₓE at their points: x ← x + drift·∇ₓE + noise·ξ for the current step. */
    @FunctionalInterface
    public interface Update<T extends Tensor> {
        void apply(T points, T gradEnergy);
    }

    /** One step of every chain, on any backend: ∇ₓE at the chains' points, then the backend's update with its draws. */
    public static <T extends Tensor> void step(BoundEnergy<T> energy, T points, Update<T> update) {
        update.apply(points, energy.gradX(points));
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
                new RandomStream(seed, t, Streams.LANGEVIN).fillGaussian(noise, 0, noise.length, 0);
                step(model.bind(tape, params), tape.constant(init, n, d), (Node points, Node grad) -> {
                    for (int i = 0; i < points.value.length; i++) points.value[i] += drift * grad.value[i] + sqrtEps * noise[i];
                });
                if (observer != null) observer.afterStep(t, init);
            }
        }
    }
}
