package ebm.backend.cuda.step;

import ebm.backend.cuda.bindings.CudaException;
import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceArena;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.runtime.ScopedLauncher;
import ebm.backend.cuda.tape.DeviceParameters;
import ebm.backend.cuda.tape.DeviceTape;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.rng.Streams;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;

/**
 * {@link Langevin} on the GPU backend: {@link Langevin#step} with the energy MLP on a {@link DeviceTape} and the
 * update x ← x + drift·∇ₓE + noise·ξ in kernels/langevin.cu, with ξ the CPU chain's Philox draws (seed, t, LANGEVIN),
 * so a device chain follows the fp64 one to fp32 rounding. The step t, the key and the level's coefficients live in
 * device memory and one step's launches repeat exactly (its tape comes from an arena rewound every step), so a whole
 * chain is queued without a host round trip: on a GPU the second step is captured into a CUDA graph and replayed for
 * every later one; the host build (whose capture returns null) runs the same launches eagerly, and so does a GPU
 * whose driver refused the capture (one warning says why). The chain's device buffers are its own and go back on
 * {@link #close()}; the launcher stays open.
 */
public final class DeviceLangevin implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DeviceLangevin.class);

    /** Bytes of kernels/langevin.cu's LangevinChainState and LangevinLevel. */
    private static final int STATE_BYTES = 24, LEVEL_BYTES = 24;

    /** The caller's launcher, through which this chain's buffers are allocated and on close freed. */
    private final ScopedLauncher launcher;
    private final DeviceKernels kernels;
    private final Blas blas;
    private final Mlp mlp;
    private final LangevinSchedule schedule;
    private final int chains;
    private final int dim;
    private final long seed;
    private final DeviceArena arena;
    private final DeviceBuffer params, x, state, levels;

    private KernelLauncher.Graph graph;
    /** Set when a capture failed: every later step runs eagerly, without trying again. */
    private boolean eagerOnly;
    private boolean closed;
    private long stepsTaken;
    private long bodiesRun;
    private long launchesPerStep;

    /**
     * @param params the energy's parameters (flat, {@link MlpSpec#layout()} order), rounded to fp32 on the device
     * @param seed   the key of the noise: the CPU chain's seed
     */
    public DeviceLangevin(KernelLauncher launcher, Blas blas, MlpSpec spec, double[] params, int chains,
                          LangevinSchedule schedule, long seed) {
        if (chains < 1) throw new IllegalArgumentException("need at least one chain, got " + chains);
        this.launcher = new ScopedLauncher(launcher);
        try {
            this.kernels = new DeviceKernels(this.launcher);
            this.blas = blas;
            this.mlp = new Mlp(spec);
            this.schedule = schedule;
            this.chains = chains;
            this.dim = spec.inputDim();
            this.seed = seed;
            this.arena = new DeviceArena(this.launcher);
            int size = mlp.layout().size();
            if (params.length != size) throw new IllegalArgumentException(params.length + " parameters for a model of " + size);
            KernelLauncher on = this.launcher;
            this.params = on.allocate(4L * size, "Langevin energy parameters");
            this.x = on.allocate(4L * chains * dim, "Langevin chains");
            this.state = on.allocate(STATE_BYTES, "Langevin chain state");
            this.levels = on.allocate((long) LEVEL_BYTES * schedule.levels(), "Langevin schedule");
            on.writeAsFloats(this.params, params);
            on.write(levels, levelTable(schedule));
            on.synchronize();
        } catch (RuntimeException | Error e) {
            try {
                this.launcher.close(); // what was allocated before the failure
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** LangevinLevel[]: the last step of each level (cumulative) and its fp64 drift and noise factors. */
    private static long[] levelTable(LangevinSchedule schedule) {
        long[] table = new long[3 * schedule.levels()];
        long last = 0;
        for (int level = 0; level < schedule.levels(); level++) {
            last += schedule.levelSteps(level);
            table[3 * level] = last;
            table[3 * level + 1] = Double.doubleToRawLongBits(schedule.drift(level));
            table[3 * level + 2] = Double.doubleToRawLongBits(schedule.noise(level));
        }
        return table;
    }

    /** Puts the chains at these points ([chains x D], row-major) and rewinds to step 0. */
    public void start(double[] points) {
        ensureOpen();
        if (points.length != (long) chains * dim) {
            throw new IllegalArgumentException(points.length + " values for " + chains + " chains of " + dim);
        }
        launcher.writeAsFloats(x, points);
        launcher.write(state, new long[] {seed, 0, 0}); // the drift and noise are written by the first advance
        stepsTaken = 0;
    }

    /**
     * Queues the next `count` steps without waiting and without reading anything back; a chain may not run past the
     * schedule's steps (its level table ends there).
     */
    public void advance(int count) {
        if (count < 0 || stepsTaken + count > schedule.steps()) {
            throw new IllegalArgumentException("cannot take " + count + " more steps after " + stepsTaken + " of a "
                    + schedule.steps() + "-step schedule");
        }
        ensureOpen();
        for (int s = 0; s < count; s++) {
            if (graph == null && !eagerOnly && bodiesRun >= 1) capture();
            if (graph != null) {
                graph.replay();
            } else {
                long before = kernels.launches();
                body();
                launchesPerStep = kernels.launches() - before;
                bodiesRun++;
            }
            stepsTaken++;
        }
    }

    /**
     * Records one step into a graph. A capture the driver refuses (a CudaException at begin, end or instantiation, or
     * from a call inside the body: the launcher has ended the capture) ran nothing, so this step and every later one
     * run eagerly instead, with one warning naming the failure.
     */
    private void capture() {
        try {
            graph = launcher.capture(this::body);
        } catch (CudaException e) {
            eagerOnly = true;
            graph = null;
            LOG.warn("CUDA graph capture of the Langevin step failed, so every step runs as eager launches: {}",
                    e.getMessage());
            return;
        }
        if (graph != null) arena.freeze();
    }

    /** One step, identical launches every time: the counter and coefficients are read from device memory. */
    private void body() {
        arena.reset();
        kernels.langevinAdvance(Grid.blocks(1), state.address(), levels.address(), schedule.levels());
        DeviceTape tape = new DeviceTape(kernels, blas, arena);
        long n = (long) chains * dim;
        Langevin.step(mlp.bind(tape, new DeviceParameters(tape, params.address(), 0)), tape.constant(x.address(), chains, dim),
                (points, gradEnergy) -> kernels.langevinStepF32(Grid.over((n + 3) / 4), points.address(),
                        gradEnergy.address(), n, Streams.LANGEVIN, state.address()));
    }

    /** Waits for the queued steps and returns the chains' points as fp64. */
    public double[] points() {
        ensureOpen();
        launcher.synchronize();
        return launcher.readFloatsAsDoubles(x, chains * dim);
    }

    /** The Philox step of the last step taken, as the device holds it (equals {@link #stepsTaken()}). */
    public long deviceStep() {
        ensureOpen();
        launcher.synchronize();
        return launcher.readLongs(state, 2)[1];
    }

    public long stepsTaken() {
        return stepsTaken;
    }

    /** Kernel launches of one eager step (GEMMs aside); a captured step replays as one graph launch. */
    public long launchesPerStep() {
        return launchesPerStep;
    }

    public boolean captured() {
        return graph != null;
    }

    /** Device bytes in use at the peak: the chains, parameters, state and the tape's busiest step. */
    public long peakDeviceBytes() {
        return arena.peakBytes() + x.bytes() + params.bytes() + state.bytes() + levels.bytes();
    }

    /**
     * The whole chain, as {@link Langevin#run(ebm.model.EnergyModel, double[], double[], int, LangevinSchedule, long,
     * Langevin.StepObserver)} runs it on the CPU: init is overwritten with the samples. With an observer, each step's
     * points are read back for it (a round trip per step, for comparisons); without one the chain is queued whole.
     */
    public static void run(KernelLauncher launcher, Blas blas, MlpSpec spec, double[] params, double[] init, int n,
                           LangevinSchedule schedule, long seed, Langevin.StepObserver observer) {
        try (DeviceLangevin chain = new DeviceLangevin(launcher, blas, spec, params, n, schedule, seed)) {
            chain.start(init);
            if (observer == null) {
                chain.advance(schedule.steps());
            } else {
                for (int t = 1; t <= schedule.steps(); t++) {
                    chain.advance(1);
                    observer.afterStep(t, chain.points());
                }
            }
            System.arraycopy(chain.points(), 0, init, 0, init.length);
        }
    }

    /**
     * Destroys the graph and frees every device buffer of the chain (its own and the tape arena's chunks), after the
     * work queued before; the launcher stays open. Closing twice does nothing.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = null;
        if (graph != null) failure = CudaTrainingStep.attempt(graph::close, failure);
        failure = CudaTrainingStep.attempt(arena::close, failure);
        failure = CudaTrainingStep.attempt(launcher::close, failure);
        graph = null;
        if (failure != null) throw failure;
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("the Langevin chain is closed (its device memory is freed)");
    }
}
