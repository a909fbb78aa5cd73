package ebm.rng;

/** The stream ids of the engine's random draws; each (seed, step, stream) triple is used for one purpose only. */
public final class Streams {
    private Streams() {}

    /** Parameter initialisation (step 0). */
    public static final int INIT = 1;
    /** Synthetic data generation (train split uses step 0, validation step 1). */
    public static final int DATA = 2;
    /** Minibatch indices for a training step. */
    public static final int BATCH = 3;
    /** Probe vectors (hutchinson, sliced, hutch++). */
    public static final int PROBES = 4;
    /** Denoising noise. */
    public static final int NOISE = 5;
    /** Noise-level choice of annealed denoising. */
    public static final int NOISE_LEVEL = 6;
    /** Langevin sampling: initial points and per-step noise. */
    public static final int LANGEVIN = 7;
    /** Train/validation split of user data. */
    public static final int SPLIT = 8;
    /** Half-batch diagnostics and anything evaluation draws. */
    public static final int EVAL = 9;
}
