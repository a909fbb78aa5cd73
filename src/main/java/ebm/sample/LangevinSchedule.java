package ebm.sample;

/**
 * The step sizes of a Langevin chain (ARCHITECTURE.md §3), shared by the CPU sampler and the device one so both take the same
 * steps: the plain form is one level with x ← x + (ε/2)·s(x) + √ε ξ, s = −∇ₓE; the annealed form runs the levels
 * σ_1 > … > σ_N in turn, an equal share of the steps each (the first steps % N levels one more), with the level's
 * score s(x, σ_i) = −∇ₓE(x)/σ_i and step ε_i = ε·σ_i²/σ_N². A step is x ← x + drift(i)·∇ₓE(x) + noise(i)·ξ.
 */
public final class LangevinSchedule {
    private final int steps;
    private final double stepSize;
    private final double[] sigmas;

    /**
     * @param sigmas noise levels for the annealed form (energy scale 1/σ_i), or null for the plain form
     */
    public LangevinSchedule(int steps, double stepSize, double[] sigmas) {
        if (steps < 0) throw new IllegalArgumentException("Langevin steps must be >= 0, got " + steps);
        if (!(stepSize > 0) || Double.isInfinite(stepSize)) {
            throw new IllegalArgumentException("Langevin step size must be a positive number, got " + stepSize);
        }
        if (sigmas != null && sigmas.length == 0) throw new IllegalArgumentException("annealed Langevin needs at least one noise level");
        this.steps = steps;
        this.stepSize = stepSize;
        this.sigmas = sigmas == null ? null : sigmas.clone();
    }

    public int steps() {
        return steps;
    }

    public int levels() {
        return sigmas == null ? 1 : sigmas.length;
    }

    /** Steps spent at level i. */
    public int levelSteps(int level) {
        int levels = levels();
        return steps / levels + (level < steps % levels ? 1 : 0);
    }

    /** ε_i. */
    public double epsilon(int level) {
        int last = levels() - 1;
        return sigmas == null ? stepSize : stepSize * sigmas[level] * sigmas[level] / (sigmas[last] * sigmas[last]);
    }

    /** The factor of ∇ₓE in a step at level i: −(ε_i/2)/σ_i (−ε/2 in the plain form). */
    public double drift(int level) {
        double scale = sigmas == null ? 1.0 : 1.0 / sigmas[level];
        return -0.5 * epsilon(level) * scale;
    }

    /** The factor of ξ in a step at level i: √ε_i. */
    public double noise(int level) {
        return Math.sqrt(epsilon(level));
    }
}
