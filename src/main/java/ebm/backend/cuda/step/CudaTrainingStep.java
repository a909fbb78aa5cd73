package ebm.backend.cuda.step;

import ebm.backend.cuda.bindings.CudaException;
import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.optim.DeviceOptimizer;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceArena;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.runtime.ScopedLauncher;
import ebm.backend.cuda.tape.DeviceDraws;
import ebm.backend.cuda.tape.DeviceNode;
import ebm.backend.cuda.tape.DeviceParameters;
import ebm.backend.cuda.tape.DeviceTape;
import ebm.model.BoundEnergy;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.objective.LossInputs;
import ebm.objective.Objective;
import ebm.optim.OptimizerSpec;
import ebm.rng.Philox;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One training step on the GPU backend — the objective's inputs (probes, noise) and its loss and parameter gradient on
 * {@link DeviceTape}s (the objective and the energy are the CPU's own, written over the op interface; two half-batches,
 * the split every backend uses, for the gradient-noise estimate),
 * clipping, the optimizer, and the step's norms — queued as one stream of launches that reads everything that
 * changes per step (the batch, the Philox step, the learning rate) from device memory. On a GPU the second step
 * is captured into a CUDA graph and every later step replays it; the host build runs the same launches eagerly, and
 * so does a GPU whose driver refused the capture (one warning says why). Only a handful of scalars come back per step.
 * Every device buffer the step allocates is its own and goes back on {@link #close()}; the launcher stays open.
 */
public final class CudaTrainingStep implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CudaTrainingStep.class);

    /** What one step reports; the update's dot product with the previous update gives the metrics' cosine. */
    public record Stats(double loss, double gradNorm, Double gradNoise, double updateNorm, double updateDotPrevious) {}

    // slots of the scalars buffer
    private static final int LOSS_SUM = 0, HALF_DIFF_SQ = 1, GRAD_SQ = 2, UPDATE_SQ = 3, UPDATE_DOT = 4, SLOTS = 8;

    /** The caller's launcher, through which this step's buffers are allocated and on close freed. */
    private final ScopedLauncher launcher;
    private final DeviceKernels kernels;
    private final Blas blas;
    private final Mlp mlp;
    private final Objective objective;
    private final OptimizerSpec optimizer;
    private final int batch;
    private final int dim;
    private final int size;
    private final int rowsA;
    private final Float clip;
    private final DeviceArena arena;

    private final DeviceBuffer params, grad, gradA, gradB, before, delta, lastUpdate;
    private final DeviceBuffer x, philoxKey, scalars, partials, nonFinite;
    private final DeviceDraws draws;
    /** The last step's directions (in the arena until the next step rewinds it), for {@link #directions()}. */
    private DeviceNode lastDirections;
    private final DeviceOptimizer deviceOptimizer;

    private KernelLauncher.Graph graph;
    /** The part after the optimizer's host work, for an optimizer that splits its step (else null). */
    private KernelLauncher.Graph graphAfterHost;
    /** Set when a capture failed: every later step runs eagerly, without trying again. */
    private boolean eagerOnly;
    private boolean closed;
    private long stepsRun;
    private boolean batchWritten;
    private long launchesPerStep;
    private long gemmsPerStep;
    private long flopsPerStep;

    public CudaTrainingStep(KernelLauncher launcher, Blas blas, MlpSpec spec, Objective objective, OptimizerSpec optimizer,
                            int batch, Double clip, double[] initialParams) {
        this.launcher = new ScopedLauncher(launcher);
        try {
            this.kernels = new DeviceKernels(this.launcher);
            this.blas = blas;
            this.mlp = new Mlp(spec);
            this.objective = objective;
            this.optimizer = optimizer;
            this.batch = batch;
            this.dim = spec.inputDim();
            this.size = mlp.layout().size();
            this.rowsA = Objective.noiseSplitRows(batch);
            this.clip = clip == null ? null : clip.floatValue();
            this.arena = new DeviceArena(this.launcher);
            if (initialParams.length != size) {
                throw new IllegalArgumentException(initialParams.length + " parameters for a model of " + size);
            }
            long n = size;
            KernelLauncher on = this.launcher;
            params = on.allocate(4 * n, "parameters");
            grad = on.allocate(4 * n, "gradient");
            gradA = on.allocate(4 * n, "half-batch gradient");
            gradB = on.allocate(4 * n, "half-batch gradient");
            before = on.allocate(4 * n, "parameters before the update");
            delta = on.allocate(4 * n, "update");
            lastUpdate = on.allocate(4 * n, "previous update");
            x = on.allocate(4L * batch * dim, "batch");
            philoxKey = on.allocate(16, "Philox key");
            scalars = on.allocate(4L * SLOTS, "step scalars");
            partials = on.allocate(4L * DeviceKernels.DOT_PARTIALS, "reduction partials");
            nonFinite = on.allocate(8, "non-finite gradient count");
            draws = new DeviceDraws(on, kernels, philoxKey.address());
            deviceOptimizer = DeviceOptimizer.create(optimizer, mlp.layout(), on, kernels, blas);

            on.writeAsFloats(params, initialParams);
            kernels.fill(lastUpdate.address(), n, 0f);
            on.write(philoxKey, new long[] {objective.seed(), 0});
            on.synchronize();
        } catch (RuntimeException | Error e) {
            try {
                this.launcher.close(); // what was allocated before the failure (out of device memory, say)
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /**
     * One step on the batch x ([batch x D], row-major) with the schedule's factor lrScale; `step` keys the probes
     * and noise (the same (seed, step) draws as the CPU backend).
     */
    public Stats step(double[] x, long step, double lrScale) {
        ensureOpen();
        writeBatch(x);
        return stepOnResidentBatch(step, lrScale);
    }

    /**
     * As {@link #step(double[], long, double)} on the batch last written, which stays on the device: what a benchmark
     * times, so that a step at large D is not dominated by converting and copying B·D inputs from the host.
     */
    public Stats stepOnResidentBatch(long step, double lrScale) {
        ensureOpen();
        if (!batchWritten) throw new IllegalStateException("no batch on the device yet: the first step takes one");
        writeStepCounters(step, lrScale);
        boolean split = deviceOptimizer.splitsStep();
        if (graph == null && !eagerOnly && stepsRun >= 1) capture(split);
        if (graph != null) {
            graph.replay();
            if (split) {
                deviceOptimizer.hostWork(); // Shampoo's roots, between the two graphs
                graphAfterHost.replay();
            }
        } else {
            long launches = kernels.launches();
            body();
            launchesPerStep = kernels.launches() - launches;
        }
        stepsRun++;
        launcher.synchronize();
        float[] s = launcher.readFloats(scalars, SLOTS);
        double gradSq = s[GRAD_SQ];
        Double noise = null;
        if (rowsA > 0 && gradSq > 0) {
            double traceSigma = s[HALF_DIFF_SQ] / (1.0 / rowsA + 1.0 / (batch - rowsA));
            noise = Math.sqrt(traceSigma / batch / gradSq);
        }
        return new Stats(s[LOSS_SUM] / batch, Math.sqrt(gradSq), noise, Math.sqrt(s[UPDATE_SQ]), s[UPDATE_DOT]);
    }

    /**
     * Records the step (both parts of a split one) into graphs. A capture the driver refuses (a CudaException at
     * begin, end or instantiation, or from a call inside the body: the launcher has ended the capture, so the stream
     * takes eager work again) is not an error: nothing it recorded ran, so this step and every later one run their
     * launches eagerly, with one warning naming the failure.
     */
    private void capture(boolean split) {
        try {
            graph = launcher.capture(split ? this::beforeHostWork : this::body);
            if (graph != null && split) graphAfterHost = launcher.capture(this::afterHostWork);
        } catch (CudaException e) {
            eagerOnly = true;
            if (graph != null) {
                try {
                    graph.close();
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            graph = null;
            graphAfterHost = null;
            LOG.warn("CUDA graph capture of the training step failed, so every step runs as eager launches: {}",
                    e.getMessage());
            return;
        }
        if (graph != null) arena.freeze();
    }

    /** The batch, the Philox step and the learning rate: what changes per step, written where the kernels read it. */
    private void writeStepInputs(double[] x, long step, double lrScale) {
        writeBatch(x);
        writeStepCounters(step, lrScale);
    }

    private void writeBatch(double[] x) {
        if (x.length != batch * dim) throw new IllegalArgumentException("batch of " + x.length + " values, expected " + batch * dim);
        launcher.writeAsFloats(this.x, x);
        batchWritten = true;
    }

    private void writeStepCounters(long step, double lrScale) {
        launcher.copyToDevice(MemorySegment.ofArray(new long[] {step}), new DeviceBuffer(philoxKey.address() + 8, 8));
        deviceOptimizer.setLearningRate(lrScale);
    }

    /** Everything one step queues; it allocates the same sizes in the same order every time (see DeviceArena). */
    private void body() {
        beforeHostWork();
        deviceOptimizer.hostWork();
        afterHostWork();
    }

    /** The step up to where the optimizer may need the host (Shampoo's roots): loss, gradient, clipping, its first part. */
    private void beforeHostWork() {
        long n = size;
        lossAndGradient();
        dot(grad, grad, n, GRAD_SQ);
        if (clip != null) kernels.clipScaleF32(Grid.over(n), grad.address(), n, scalar(GRAD_SQ), clip);
        copy(params, before, n);
        optimizerStep(n);
    }

    /** The rest of the step: the optimizer's second part (if any) and the step's norms. */
    private void afterHostWork() {
        long n = size;
        deviceOptimizer.finishStep(params.address(), grad.address());
        kernels.combineF32(Grid.over(n), params.address(), before.address(), n, 1f, -1f, 0, delta.address());
        dot(delta, delta, n, UPDATE_SQ);
        dot(delta, lastUpdate, n, UPDATE_DOT);
        copy(delta, lastUpdate, n);
    }

    /**
     * The objective's part of a step: probes or noise, both half-batches' losses and gradients, their sum into
     * scalars[LOSS_SUM], the mean gradient into `grad`, and ‖ḡ_A − ḡ_B‖² for the noise estimate.
     */
    private void lossAndGradient() {
        arena.reset();
        gemmsPerStep = 0;
        flopsPerStep = 0;
        long n = size;
        fill(gradA.address(), n, 0f);
        fill(gradB.address(), n, 0f);
        DeviceTape inputsTape = new DeviceTape(kernels, blas, arena);
        LossInputs<DeviceNode> in = objective.inputs(inputsTape, draws.on(inputsTape),
                mlp.bind(inputsTape, new DeviceParameters(inputsTape, params.address(), 0)), inputsTape.constant(x.address(), batch, dim));
        count(inputsTape);
        lastDirections = in.directions();
        long lossSum = scalar(LOSS_SUM);
        if (rowsA > 0) {
            long lossA = half(in, 0, rowsA, gradA.address());
            long lossB = half(in, rowsA, batch, gradB.address());
            kernels.combineF32(Grid.blocks(1), lossA, lossB, 1, 1f, 1f, 0, lossSum);
        } else {
            long lossB = half(in, 0, batch, gradB.address());
            kernels.combineF32(Grid.blocks(1), lossB, 0, 1, 1f, 0f, 0, lossSum);
        }
        float inverseBatch = 1f / batch;
        kernels.combineF32(Grid.over(n), gradA.address(), gradB.address(), n, inverseBatch, inverseBatch, 0, grad.address());
        if (rowsA > 0) { // ḡ_A − ḡ_B, for the noise estimate
            kernels.combineF32(Grid.over(n), gradA.address(), gradB.address(), n, 1f / rowsA, -1f / (batch - rowsA), 0,
                    delta.address());
            dot(delta, delta, n, HALF_DIFF_SQ);
        } else {
            fill(scalar(HALF_DIFF_SQ), 1, 0f);
        }
    }

    /**
     * The loss and its parameter gradient (into gradOut, fp64) on the batch x at `step`, with no optimizer step:
     * what the parity checks compare with the CPU objective.
     */
    public double lossAndGradient(double[] x, long step, double[] gradOut) {
        ensureOpen();
        writeStepInputs(x, step, 1.0);
        lossAndGradient();
        launcher.synchronize();
        float[] g = launcher.readFloats(grad, size);
        for (int i = 0; i < size; i++) gradOut[i] = g[i];
        return launcher.readFloats(scalars, SLOTS)[LOSS_SUM] / (double) batch;
    }

    /** A loss and how many elements of its gradient are NaN or ±inf. */
    public record CheckedLoss(double loss, long nonFiniteGradient) {}

    /**
     * As {@link #lossAndGradient(double[], long, double[])}, but the gradient stays on the device: only the loss and
     * the count of its non-finite elements (kernels/reduce.cu) come back, so that checking a large model's gradient
     * (10⁸ parameters at D = 10⁶) costs one reduction, not a copy of it to the host.
     */
    public CheckedLoss checkedLossAndGradient(double[] x, long step) {
        ensureOpen();
        writeStepInputs(x, step, 1.0);
        lossAndGradient();
        kernels.countNonFinite(grad.address(), size, nonFinite.address());
        launcher.synchronize();
        long count = launcher.readLongs(nonFinite, 1)[0];
        return new CheckedLoss(launcher.readFloats(scalars, SLOTS)[LOSS_SUM] / (double) batch, count);
    }

    /** Rows [from, to) of the batch on a fresh tape: their summed loss (device address of a float) and gradient. */
    private long half(LossInputs<DeviceNode> in, int from, int to, long gradInto) {
        DeviceTape tape = new DeviceTape(kernels, blas, arena);
        DeviceParameters parameters = new DeviceParameters(tape, params.address(), gradInto);
        BoundEnergy<DeviceNode> energy = mlp.bind(tape, parameters);
        DeviceNode sum = tape.sum(objective.losses(tape, energy, in.rows(tape, from, to - from)));
        tape.backward(sum);
        parameters.finishGradient();
        count(tape);
        return sum.address();
    }

    private void count(DeviceTape tape) {
        gemmsPerStep += tape.gemms();
        flopsPerStep += tape.flops();
    }

    private void optimizerStep(long n) {
        deviceOptimizer.step(params.address(), grad.address());
    }

    private long scalar(int slot) {
        return scalars.address() + 4L * slot;
    }

    private void fill(long address, long n, float value) {
        kernels.fill(address, n, value);
    }

    private void copy(DeviceBuffer from, DeviceBuffer to, long n) {
        kernels.copy(from.address(), to.address(), n);
    }

    /** scalars[slot] = Σ a·b. */
    private void dot(DeviceBuffer a, DeviceBuffer b, long n, int slot) {
        kernels.dot(a.address(), b.address(), n, partials.address(), scalar(slot));
    }

    /**
     * The last step's per-sample directions, [batch·per-sample x D] (Hutch++: each sample's Q_b rows, then its
     * projected, scaled probes), for the parity checks; empty for objectives without directions.
     */
    public double[] directions() {
        launcher.synchronize();
        if (lastDirections == null) return new double[0];
        return launcher.readFloatsAsDoubles(new DeviceBuffer(lastDirections.address(), lastDirections.bytes()), (int) lastDirections.size());
    }

    /** The parameters as fp64 (for evaluation and checkpoints). */
    public double[] params() {
        ensureOpen();
        launcher.synchronize();
        return launcher.readFloatsAsDoubles(params, size);
    }

    /** The optimizer's state in the CPU optimizer's format (so a run can resume on either backend). */
    public Map<String, double[]> optimizerState() {
        ensureOpen();
        launcher.synchronize();
        return deviceOptimizer.state();
    }

    /** Restores a state written by {@link #optimizerState()} or by the CPU optimizer of the same config. */
    public void loadOptimizerState(Map<String, double[]> state) {
        ensureOpen();
        deviceOptimizer.loadState(state);
    }

    /** Replaces the parameters (e.g. from a resumed run's state). */
    public void loadParams(double[] values) {
        ensureOpen();
        if (values.length != size) throw new IllegalArgumentException(values.length + " parameters for a model of " + size);
        launcher.writeAsFloats(params, values);
    }

    /** The last step's update Δθ (what the next step's update cosine is taken against), as fp64. */
    public double[] previousUpdate() {
        ensureOpen();
        launcher.synchronize();
        return launcher.readFloatsAsDoubles(lastUpdate, size);
    }

    /** Restores the previous update (a resumed run's), so its first step's update cosine is the uninterrupted run's. */
    public void loadPreviousUpdate(double[] values) {
        ensureOpen();
        if (values.length != size) throw new IllegalArgumentException(values.length + " update values for a model of " + size);
        launcher.writeAsFloats(lastUpdate, values);
    }

    /** Kernel launches of one eager step (a captured graph replays as one launch), and GEMM calls in it. */
    public long launchesPerStep() {
        return launchesPerStep;
    }

    public long gemmsPerStep() {
        return gemmsPerStep;
    }

    /** GEMM floating-point operations of one step's loss and gradient (the optimizer's few per parameter aside). */
    public long flopsPerStep() {
        return flopsPerStep;
    }

    public boolean captured() {
        return graph != null;
    }

    /** Device bytes in use at the peak: the persistent buffers plus the arena's busiest step. */
    public long peakDeviceBytes() {
        return arena.peakBytes() + 4L * size * 7 + deviceOptimizer.stateBytes();
    }

    /** The optimizer's diagnostics of the last step, with the CPU optimizer's keys (a few floats read back). */
    public Map<String, Double> optimizerDiagnostics() {
        ensureOpen();
        launcher.synchronize();
        return deviceOptimizer.diagnostics();
    }

    /**
     * Destroys the graphs and frees every device buffer this step allocated (its own, the optimizer's, the tape
     * arena's chunks), after the work queued before; the launcher stays open. Closing twice does nothing; each part
     * is tried, the first failure thrown with the others suppressed.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = null;
        if (graph != null) failure = attempt(graph::close, failure);
        if (graphAfterHost != null) failure = attempt(graphAfterHost::close, failure);
        failure = attempt(arena::close, failure);
        failure = attempt(launcher::close, failure);
        graph = null;
        graphAfterHost = null;
        if (failure != null) throw failure;
    }

    /** Runs part; returns the first failure so far (a later one suppressed into it). */
    static RuntimeException attempt(Runnable part, RuntimeException failure) {
        try {
            part.run();
        } catch (RuntimeException e) {
            if (failure == null) return e;
            failure.addSuppressed(e);
        }
        return failure;
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("the training step is closed (its device memory is freed)");
    }

}
