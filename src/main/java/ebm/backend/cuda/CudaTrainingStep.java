package ebm.backend.cuda;

import ebm.EbmException;
import ebm.config.OptimizerConfig;
import ebm.model.MlpSpec;
import ebm.model.TraceAlgorithm;
import ebm.objective.AnnealedDenoisingObjective;
import ebm.objective.DenoisingObjective;
import ebm.objective.ExactObjective;
import ebm.objective.HutchPlusPlusObjective;
import ebm.objective.HutchinsonObjective;
import ebm.objective.Objective;
import ebm.objective.ProbeDistribution;
import ebm.objective.SlicedObjective;
import ebm.rng.Streams;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One training step on the GPU backend — probes or noise, the objective's loss and parameter gradient on a
 * {@link DeviceTape} (two half-batches, as the CPU's {@code Losses} splits them, for the gradient-noise estimate),
 * clipping, the optimizer, and the step's norms — queued as one stream of launches that reads everything that
 * changes per step (the batch, the Philox step, the learning rate) from device memory. On a GPU the second step
 * is captured into a CUDA graph and every later step replays it; the host build runs the same launches eagerly.
 * Only a handful of scalars come back per step.
 */
public final class CudaTrainingStep implements AutoCloseable {
    /** What one step reports; the update's dot product with the previous update gives the metrics' cosine. */
    public record Stats(double loss, double gradNorm, Double gradNoise, double updateNorm, double updateDotPrevious) {}

    // slots of the scalars buffer
    private static final int LOSS_SUM = 0, HALF_DIFF_SQ = 1, GRAD_SQ = 2, UPDATE_SQ = 3, UPDATE_DOT = 4, SLOTS = 8;

    private final KernelLauncher launcher;
    private final DeviceKernels kernels;
    private final Blas blas;
    private final DeviceMlp mlp;
    private final Objective objective;
    private final OptimizerConfig optimizer;
    private final int batch;
    private final int dim;
    private final int size;
    private final int rowsA;
    private final Float clip;
    private final DeviceArena arena;

    private final DeviceBuffer params, grad, gradA, gradB, before, delta, lastUpdate;
    private final DeviceBuffer x, probes, noisy, target, philoxKey, scalars, partials;
    /** Annealed denoising's noise levels σ_1 > … > σ_N (fp32), indexed per sample on the device. */
    private final DeviceBuffer noiseLevels;
    private final DeviceOptimizer deviceOptimizer;
    private final int probesPerSample;

    private KernelLauncher.Graph graph;
    /** The part after the optimizer's host work, for an optimizer that splits its step (else null). */
    private KernelLauncher.Graph graphAfterHost;
    private long stepsRun;
    private boolean batchWritten;
    private long launchesPerStep;
    private long gemmsPerStep;
    private long flopsPerStep;

    public CudaTrainingStep(KernelLauncher launcher, Blas blas, MlpSpec spec, Objective objective, OptimizerConfig optimizer,
                            int batch, Double clip, double[] initialParams) {
        this.launcher = launcher;
        this.kernels = new DeviceKernels(launcher);
        this.blas = blas;
        this.mlp = new DeviceMlp(spec);
        this.objective = objective;
        this.optimizer = optimizer;
        this.batch = batch;
        this.dim = spec.inputDim();
        this.size = mlp.layout().size();
        this.rowsA = Objective.noiseSplitRows(batch);
        this.clip = clip == null ? null : clip.floatValue();
        this.arena = new DeviceArena(launcher);
        if (initialParams.length != size) {
            throw new IllegalArgumentException(initialParams.length + " parameters for a model of " + size);
        }
        probesPerSample = switch (objective) {
            case ExactObjective e -> 0;
            case HutchinsonObjective h -> h.probes();
            case SlicedObjective s -> s.probes();
            case HutchPlusPlusObjective h -> h.sketchVectors(dim) + h.restProbes();
            case DenoisingObjective d -> 0;
            case AnnealedDenoisingObjective a -> 0;
            default -> throw new EbmException("objective.name: " + objective.name() + " is not available on backend cuda "
                    + "(available there: exact, hutchinson, sliced, hutch++, denoising, annealed-denoising); use backend: cpu");
        };
        long n = size;
        params = launcher.allocate(4 * n, "parameters");
        grad = launcher.allocate(4 * n, "gradient");
        gradA = launcher.allocate(4 * n, "half-batch gradient");
        gradB = launcher.allocate(4 * n, "half-batch gradient");
        before = launcher.allocate(4 * n, "parameters before the update");
        delta = launcher.allocate(4 * n, "update");
        lastUpdate = launcher.allocate(4 * n, "previous update");
        x = launcher.allocate(4L * batch * dim, "batch");
        long probeCount = (long) batch * probesPerSample * dim;
        probes = probeCount > 0 ? launcher.allocate(4 * probeCount, "probes") : null;
        boolean denoising = objective instanceof DenoisingObjective || objective instanceof AnnealedDenoisingObjective;
        noisy = denoising ? launcher.allocate(4L * batch * dim, "noised batch") : null;
        target = denoising ? launcher.allocate(4L * batch * dim, "denoising target") : null;
        philoxKey = launcher.allocate(16, "Philox key");
        scalars = launcher.allocate(4L * SLOTS, "step scalars");
        partials = launcher.allocate(4L * DeviceKernels.DOT_PARTIALS, "reduction partials");
        if (objective instanceof AnnealedDenoisingObjective a) {
            noiseLevels = launcher.allocate(4L * a.sigmas().length, "noise levels");
            launcher.writeAsFloats(noiseLevels, a.sigmas());
        } else {
            noiseLevels = null;
        }
        deviceOptimizer = DeviceOptimizer.create(optimizer, mlp.layout(), launcher, kernels, blas);

        launcher.writeAsFloats(params, initialParams);
        kernels.fill(lastUpdate.address(), n, 0f);
        launcher.write(philoxKey, new long[] {drawSeed(objective), 0});
        launcher.synchronize();
    }

    /** The seed of the objective's probe or noise draws (the exact objective draws nothing). */
    private static long drawSeed(Objective objective) {
        return switch (objective) {
            case HutchinsonObjective h -> h.seed();
            case SlicedObjective s -> s.seed();
            case HutchPlusPlusObjective h -> h.seed();
            case DenoisingObjective d -> d.seed();
            case AnnealedDenoisingObjective a -> a.seed();
            default -> 0;
        };
    }

    /**
     * One step on the batch x ([batch x D], row-major) with the schedule's factor lrScale; `step` keys the probes
     * and noise (the same (seed, step) draws as the CPU backend).
     */
    public Stats step(double[] x, long step, double lrScale) {
        writeBatch(x);
        return stepOnResidentBatch(step, lrScale);
    }

    /**
     * As {@link #step(double[], long, double)} on the batch last written, which stays on the device: what a benchmark
     * times, so that a step at large D is not dominated by converting and copying B·D inputs from the host.
     */
    public Stats stepOnResidentBatch(long step, double lrScale) {
        if (!batchWritten) throw new IllegalStateException("no batch on the device yet: the first step takes one");
        writeStepCounters(step, lrScale);
        boolean split = deviceOptimizer.splitsStep();
        if (graph == null && stepsRun >= 1 && (graph = launcher.capture(split ? this::beforeHostWork : this::body)) != null) {
            if (split) graphAfterHost = launcher.capture(this::afterHostWork);
            arena.freeze();
        }
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
        if (clip != null) {
            float c = clip;
            kernels.launch("ebm_clip_scale_f32", n, a -> a.pointer(grad).i64(n).i64(scalar(GRAD_SQ)).f32(c));
        }
        copy(params, before, n);
        optimizerStep(n);
    }

    /** The rest of the step: the optimizer's second part (if any) and the step's norms. */
    private void afterHostWork() {
        long n = size;
        deviceOptimizer.finishStep(params.address(), grad.address());
        kernels.launch("ebm_combine_f32", n, a -> a.pointer(params).pointer(before).i64(n).f32(1f).f32(-1f).i32(0).pointer(delta));
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
        drawInputs();
        long lossSum = scalar(LOSS_SUM);
        if (rowsA > 0) {
            long lossA = half(0, rowsA, gradA.address());
            long lossB = half(rowsA, batch, gradB.address());
            kernels.launch("ebm_combine_f32", 1, a -> a.i64(lossA).i64(lossB).i64(1).f32(1f).f32(1f).i32(0).i64(lossSum));
        } else {
            long lossB = half(0, batch, gradB.address());
            kernels.launch("ebm_combine_f32", 1, a -> a.i64(lossB).i64(0).i64(1).f32(1f).f32(0f).i32(0).i64(lossSum));
        }
        float inverseBatch = 1f / batch;
        kernels.launch("ebm_combine_f32", n, a -> a.pointer(gradA).pointer(gradB).i64(n).f32(inverseBatch).f32(inverseBatch).i32(0).pointer(grad));
        if (rowsA > 0) { // ḡ_A − ḡ_B, for the noise estimate
            kernels.launch("ebm_combine_f32", n, a -> a.pointer(gradA).pointer(gradB).i64(n).f32(1f / rowsA)
                    .f32(-1f / (batch - rowsA)).i32(0).pointer(delta));
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
        writeStepInputs(x, step, 1.0);
        lossAndGradient();
        launcher.synchronize();
        float[] g = launcher.readFloats(grad, size);
        for (int i = 0; i < size; i++) gradOut[i] = g[i];
        return launcher.readFloats(scalars, SLOTS)[LOSS_SUM] / (double) batch;
    }

    private void drawInputs() {
        if (probes != null) {
            ProbeDistribution dist = switch (objective) {
                case HutchinsonObjective h -> h.distribution();
                case SlicedObjective s -> s.distribution();
                case HutchPlusPlusObjective h -> h.distribution();
                default -> throw new IllegalStateException(objective.name());
            };
            String kernel = dist == ProbeDistribution.GAUSSIAN ? "ebm_probes_gaussian_f32" : "ebm_probes_rademacher_f32";
            long count = probes.bytes() / 4;
            kernels.launch(kernel, (count + 3) / 4, a -> a.pointer(probes).i64(count).i64(0).i32(Streams.PROBES).pointer(philoxKey));
            if (objective instanceof HutchPlusPlusObjective h) { // the draws become the sketch basis and projected probes
                DeviceTape sketch = DeviceHutchPlusPlus.directions(kernels, blas, arena, mlp, params.address(), x.address(),
                        batch, dim, h.sketchVectors(dim), h.restProbes(), probes.address());
                gemmsPerStep += sketch.gemms();
                flopsPerStep += sketch.flops();
            }
        }
        if (objective instanceof DenoisingObjective d) {
            long count = (long) batch * dim;
            kernels.launch("ebm_probes_gaussian_f32", (count + 3) / 4, a -> a.pointer(target).i64(count).i64(0).i32(Streams.NOISE).pointer(philoxKey));
            // ε sits in `target` until the kernel turns it into x̃ (noisy) and ε/σ (target) in place
            float sigma = (float) d.sigma();
            kernels.launch("ebm_denoising_inputs_f32", count, a -> a.pointer(x).pointer(target).i64(count).f32(sigma).pointer(noisy).pointer(target));
        }
        if (objective instanceof AnnealedDenoisingObjective a) { // the target is ε itself (weight σ² on E/σ)
            long count = (long) batch * dim;
            int levels = a.sigmas().length;
            kernels.launch("ebm_probes_gaussian_f32", (count + 3) / 4, k -> k.pointer(target).i64(count).i64(0).i32(Streams.NOISE).pointer(philoxKey));
            kernels.launch("ebm_annealed_denoising_inputs_f32", count, k -> k.pointer(x).pointer(target).i64(batch).i64(dim)
                    .pointer(noiseLevels).i32(levels).i32(Streams.NOISE_LEVEL).pointer(philoxKey).pointer(noisy));
        }
    }

    /** Rows [from, to) of the batch on a fresh tape: their summed loss (device address of a float) and gradient. */
    private long half(int from, int to, long gradInto) {
        DeviceTape tape = new DeviceTape(kernels, blas, arena);
        DeviceMlp.Bound energy = mlp.bind(tape, params.address(), gradInto);
        int rows = to - from;
        DeviceNode losses = switch (objective) {
            case ExactObjective e -> {
                DeviceNode[] exact = energy.exact(rows(tape, x, from, rows, 1), e.trace());
                yield tape.combine(exact[0], exact[1], -1, 0.5);
            }
            case HutchinsonObjective h -> {
                DeviceNode xs = rows(tape, x, from, rows, 1);
                DeviceNode trace = energy.alongDirections(xs, rows(tape, probes, from, rows, h.probes()))[1];
                yield tape.combine(trace, tape.rowSumSquares(energy.gradX(xs)), -1.0 / h.probes(), 0.5);
            }
            case SlicedObjective s -> {
                DeviceNode[] dir = energy.alongDirections(rows(tape, x, from, rows, 1), rows(tape, probes, from, rows, s.probes()));
                yield tape.combine(dir[1], tape.groupSumSquares(dir[0], rows), -1.0 / s.probes(), 0.5 / s.probes());
            }
            case HutchPlusPlusObjective h -> { // the directions carry Q (weight 1) and the scaled projected probes
                DeviceNode xs = rows(tape, x, from, rows, 1);
                DeviceNode trace = energy.alongDirections(xs, rows(tape, probes, from, rows, probesPerSample))[1];
                yield tape.combine(trace, tape.rowSumSquares(energy.gradX(xs)), -1, 0.5);
            }
            case DenoisingObjective _, AnnealedDenoisingObjective _ -> {
                DeviceNode gradX = energy.gradX(rows(tape, noisy, from, rows, 1));
                yield tape.scale(tape.rowSumSquares(tape.sub(gradX, rows(tape, target, from, rows, 1))), 0.5);
            }
            default -> throw new IllegalStateException(objective.name());
        };
        DeviceNode sum = tape.sum(losses);
        tape.backward(sum);
        energy.finishGradient();
        gemmsPerStep += tape.gemms();
        flopsPerStep += tape.flops();
        return sum.address();
    }

    /** Rows [from, from + count) of a [batch·perSample x D] buffer, perSample rows per sample. */
    private DeviceNode rows(DeviceTape tape, DeviceBuffer buffer, int from, int count, int perSample) {
        return tape.constant(buffer.address() + 4L * from * perSample * dim, count * perSample, dim);
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
     * The probes buffer as the last step left it, [batch·per-sample x D] (Hutch++: each sample's Q_b rows, then its
     * projected, scaled probes), for the parity checks; empty for objectives without probes.
     */
    double[] directions() {
        launcher.synchronize();
        return probes == null ? new double[0] : launcher.readFloatsAsDoubles(probes, (int) (probes.bytes() / 4));
    }

    /** The parameters as fp64 (for evaluation and checkpoints). */
    public double[] params() {
        launcher.synchronize();
        return launcher.readFloatsAsDoubles(params, size);
    }

    /** The optimizer's state in the CPU optimizer's format (so a run can resume on either backend). */
    public Map<String, double[]> optimizerState() {
        launcher.synchronize();
        return deviceOptimizer.state();
    }

    /** Restores a state written by {@link #optimizerState()} or by the CPU optimizer of the same config. */
    public void loadOptimizerState(Map<String, double[]> state) {
        deviceOptimizer.loadState(state);
    }

    /** Replaces the parameters (e.g. from a resumed run's state). */
    public void loadParams(double[] values) {
        if (values.length != size) throw new IllegalArgumentException(values.length + " parameters for a model of " + size);
        launcher.writeAsFloats(params, values);
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
        launcher.synchronize();
        return deviceOptimizer.diagnostics();
    }

    @Override
    public void close() {
        if (graph != null) graph.close();
        if (graphAfterHost != null) graphAfterHost.close();
    }

}
