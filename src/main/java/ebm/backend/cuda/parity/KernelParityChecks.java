package ebm.backend.cuda.parity;

import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.Fp32;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import ebm.optim.AdamW;
import ebm.optim.AdamWOptions;
import ebm.optim.Optimizers;
import ebm.rng.RandomStream;
import ebm.tape.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;

/**
 * Every kernel of kernels/ against the fp64 CPU reference on fresh random inputs, through any {@link KernelLauncher}
 * (the host build in CI, a GPU later). Outputs are poisoned with NaN before each launch, so an untouched output
 * fails; an all-zero output fails. Used by the *ParityTest classes and by `ebm validate`.
 *
 * <p>Through the host build, the parity tests and `ebm validate --emulated` run every launch of every check twice,
 * in thread index order and under a shuffled schedule ({@link HostEmulationLauncher#comparingSchedules}), and
 * require identical bits: no kernel's threads may race within a barrier phase. {@link #SCHEDULE_DEPENDENT} names
 * the kernels whose result may legitimately depend on that order, each compared to a tolerance instead.
 *
 * Tolerances and why:
 * <ul>
 *   <li>Philox words and Rademacher signs: 0 mismatches (integer arithmetic, ARCHITECTURE.md §2 requires identical bits).</li>
 *   <li>Gaussians, fp64: 1e-13 of the Box-Muller radius r of each pair; log/sqrt/cos/sin differ between libms by a
 *       few ulp (about 1e-15 of r).</li>
 *   <li>Gaussians, fp32: 2e-6 of r. u is only known to an fp32 ulp (2^-24) so the angle 2πu carries about
 *       π·2^-24·2 ≈ 4e-7 absolute error, times r in the output, plus a few ulp (≈ 4e-7) of r from log, sqrt, sin.</li>
 *   <li>Fused AdamW, fp32 against fp64, 5 steps: m and v within 1e-5 of their norms (a few fp32 roundings, 6e-8
 *       each, per element and step). The parameters' total update θ₅ − θ₀ within 1e-4 of its norm: θ is stored in
 *       fp32, so every step rounds |θ| ≈ 1 to 6e-8, which alone is about 2e-5 of the 3e-3-sized update over 5 steps
 *       (measured 2e-5); ‖θ − θ_ref‖/‖θ_ref‖ itself is ~1e-7.</li>
 *   <li>Activations, fp32: 1e-5 of ‖σ⁽ᵏ⁾‖ per order; z itself is rounded to fp32 and each formula is a dozen
 *       operations with one transcendental (≤ 2 ulp on the GPU), so elementwise work sits far under 1e-4.</li>
 *   <li>Tree reduction, fp32: 1e-5 relative; each term passes through ≤ n/(grid·block) serial additions plus
 *       log2(block) tree levels (≈ 40 roundings at 6e-8 for these sizes), on inputs with mean 1 (no cancellation).</li>
 *   <li>Row reduction, fp32: (⌈m/threads⌉ + log2 threads + 3)·2^-24 of |start| + |scale|·Σ|x·y| per row, the
 *       first-order bound for the kernel's own order (see {@link #rowReduceF32}); the same bits on any grid.</li>
 *   <li>Non-finite count: exact (integers).</li>
 * </ul>
 */
public final class KernelParityChecks {
    /**
     * Kernels whose bits may differ between two schedules, with the tolerance and why. None: no kernel of kernels/
     * uses atomics, and every reduction (reduce.cu, grouped.cu, hutchpp.cu's block sums) adds in an order fixed by
     * thread and block indices, so all must give identical bits. A kernel adding floats with atomicAdd would be listed
     * here with a tolerance covering any order of its additions.
     */
    public static final java.util.Map<String, HostEmulationLauncher.ScheduleTolerance> SCHEDULE_DEPENDENT = java.util.Map.of();

    private static final int THREADS = Grid.THREADS;
    private static final int PAIRS_SHOWN = 3;

    /**
     * One row per kernel the host launcher compared under two schedules: 0 launches differing from thread order, or
     * for a kernel in {@link #SCHEDULE_DEPENDENT} the worst relative difference within its tolerance.
     */
    public static List<ParityResult> scheduleRows(HostEmulationLauncher host) {
        List<ParityResult> rows = new ArrayList<>();
        for (HostEmulationLauncher.ScheduleComparison c : host.scheduleComparisons()) {
            String shapes = c.launches() + " launches, " + c.bytes() + " B";
            rows.add(c.tolerance() == null
                    ? new ParityResult("schedule " + c.kernel(), shapes, "bits", c.differing(), 0, "launches differing from thread order",
                            c.problem(), c.pairs())
                    : new ParityResult("schedule " + c.kernel(), shapes, "fp32", c.worstRelative(), c.tolerance().relative(),
                            "|Δ|/max(|a|,|b|) vs thread order", c.problem(), c.pairs()));
        }
        return rows;
    }

    private final KernelLauncher launcher;
    /** Every launch waits, so a fault surfaces at the check that caused it. */
    private final DeviceKernels kernels;
    private final SplittableRandom random;

    public KernelParityChecks(KernelLauncher launcher, long seed) {
        this.launcher = launcher;
        this.kernels = DeviceKernels.waiting(launcher);
        this.random = new SplittableRandom(seed);
    }

    public List<ParityResult> all() {
        List<ParityResult> results = new ArrayList<>();
        results.add(philoxWords());
        results.add(rademacherF32());
        results.add(gaussianF64());
        results.add(gaussianF32());
        results.addAll(adamwF32());
        for (Activation a : Activation.values()) results.addAll(biasActivationF32(a));
        results.add(reduceSumF32(100_003, 37, 256));
        results.add(reduceSumF32(5_000, 3, 1024));
        results.add(rowReduceF32(3, 7));
        results.add(rowReduceF32(3, 100_000));
        results.add(countNonFiniteF32(100_003));
        return results;
    }

    // ---- Philox streams -------------------------------------------------------------------------------------------

    /** A (seed, step) pair in device memory, as PhiloxKeyInDevice {uint64 seed; uint64 step}. */
    public DeviceBuffer philoxKey(long seed, long step) {
        return launcher.upload(new long[] {seed, step});
    }

    /** The grid of a probes launch writing n elements (a thread per Philox block; either end may be a partial block). */
    public static Grid probesGrid(int n) {
        return Grid.blocks(gridFor((n + 7) / 4));
    }

    private static int gridFor(long work) {
        return (int) Math.max(1, Math.min(64, (work + THREADS - 1) / THREADS)); // grid-stride loops cover the rest
    }

    private long nextStep() {
        return random.nextLong() >>> 1 | (1L << 40); // high step bits set: the counter's upper word matters
    }

    /** A probes kernel's typed entry: n elements from `first` of stream `stream`, keyed by the device-side key. */
    @FunctionalInterface
    private interface ProbesKernel {
        void launch(Grid grid, long out, long n, long first, int stream, long key);
    }

    /** One draw of a probes kernel: its fresh (seed, step, stream) and the output it wrote. */
    private record Draw(long seed, long step, int stream, DeviceBuffer out) {
        RandomStream reference() {
            return new RandomStream(seed, step, stream);
        }
    }

    /** n elements from `first` of a fresh (seed, step, stream) into a poisoned buffer of n elements of `bytes` each. */
    private Draw draw(ProbesKernel kernel, int n, long first, int bytes) {
        long seed = random.nextLong(), step = nextStep();
        int stream = random.nextInt(1 << 20);
        DeviceBuffer out = launcher.allocate((long) bytes * n);
        launcher.poison(out);
        kernel.launch(probesGrid(n), out.address(), n, first, stream, philoxKey(seed, step).address());
        return new Draw(seed, step, stream, out);
    }

    public ParityResult philoxWords() {
        int n = 10_007;
        long first = 13; // not a multiple of 4: the first and last Philox blocks are partly outside the range
        Draw draw = draw(kernels::probesWordsU32, n, first, 4);
        int[] got = launcher.readInts(draw.out(), n);
        RandomStream reference = draw.reference();
        int mismatches = 0, nonZero = 0;
        List<String> pairs = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            int want = reference.word(first + e);
            if (got[e] != 0) nonZero++;
            if (got[e] != want) {
                if (mismatches < PAIRS_SHOWN) pairs.add(String.format("word %d: kernel %08x, reference %08x", first + e, got[e], want));
                mismatches++;
            }
        }
        if (pairs.isEmpty()) {
            for (int e = 0; e < PAIRS_SHOWN; e++) pairs.add(String.format("word %d: kernel %08x, reference %08x", first + e, got[e], reference.word(first + e)));
        }
        return new ParityResult("philox words", "n=" + n + " from " + first, "uint32", mismatches, 0,
                "mismatched words", nonZero == 0 ? "all words zero" : null, pairs);
    }

    public ParityResult rademacherF32() {
        int n = 4_099;
        long first = 2;
        Draw draw = draw(kernels::probesRademacherF32, n, first, 4);
        float[] got = launcher.readFloats(draw.out(), n);
        double[] want = new double[n];
        draw.reference().fillRademacher(want, 0, n, first);
        int mismatches = 0;
        for (int e = 0; e < n; e++) if (got[e] != want[e]) mismatches++; // NaN never equals: counted
        return new ParityResult("probes rademacher", "n=" + n + " from " + first, "fp32", mismatches, 0,
                "mismatched signs", problems(got), worstPairs(n, e -> got[e] == want[e] ? 0 : 1, e -> got[e], e -> want[e]));
    }

    public ParityResult gaussianF64() {
        return gaussian(kernels::probesGaussianF64, 5, 8, "fp64", 1e-13);
    }

    public ParityResult gaussianF32() {
        return gaussian(kernels::probesGaussianF32, 7, 4, "fp32", 2e-6);
    }

    /**
     * 8191 Gaussians from an odd `first` (Box-Muller pairs straddle both ends), elements of `bytes` read back as fp64;
     * the error of each relative to its pair's radius r (both of a pair share r's rounding).
     */
    private ParityResult gaussian(ProbesKernel kernel, long first, int bytes, String precision, double tolerance) {
        int n = 8_191;
        Draw draw = draw(kernel, n, first, bytes);
        double[] got = bytes == 8 ? launcher.readDoubles(draw.out(), n) : launcher.readFloatsAsDoubles(draw.out(), n);
        RandomStream reference = draw.reference();
        double[] want = new double[n];
        reference.fillGaussian(want, 0, n, first);
        IntToDoubleFunction error = e -> {
            long i = first + e;
            long pairStart = i & ~1L;
            double a = reference.gaussian(pairStart), b = reference.gaussian(pairStart + 1);
            double r = Math.hypot(a, b);
            double d = Math.abs(got[e] - want[e]);
            return Double.isNaN(d) ? Double.NaN : d / Math.max(r, Double.MIN_NORMAL);
        };
        double worst = worst(n, error);
        return new ParityResult("probes gaussian", "n=" + n + " from " + first, precision, worst, tolerance, "|Δ|/r",
                problems(got), worstPairs(n, error, e -> got[e], e -> want[e]));
    }

    // ---- AdamW ----------------------------------------------------------------------------------------------------

    /** Two results: the parameter update and the moments m, v (see the class comment for why they differ). */
    public List<ParityResult> adamwF32() {
        int n = 4_099, steps = 5;
        AdamWOptions options = new AdamWOptions(3e-3, 0.9, 0.999, 1e-8, 0.05);
        ParamLayout layout = new ParamLayout.Builder().add("flat", 1, n, ParamView.Role.BIAS).build();
        AdamW reference = Optimizers.adamw(options, layout);

        float[] params = gaussianFloats(n, 1.0);
        double[] referenceParams = Fp32.toDoubles(params);
        double[] initialParams = referenceParams.clone();
        DeviceBuffer paramsDevice = launcher.upload(params);
        DeviceBuffer gradDevice = launcher.allocate(4L * n);
        DeviceBuffer expAvg = launcher.upload(new float[n]);
        DeviceBuffer expAvgSq = launcher.upload(new float[n]);
        // AdamWScalarsInDevice: step (int64), then lr, beta1, beta2, eps, weight_decay, decay_factor, step_size,
        // bias_correction2_sqrt (fp64); the last three are the advance kernel's to fill, so they start as NaN.
        DeviceBuffer scalars = launcher.allocate(8L * 9);
        launcher.poison(scalars);
        launcher.write(scalars, new long[] {0});
        // The same arguments every step, as a captured graph would have them: only device memory changes.
        for (int t = 1; t <= steps; t++) {
            double lrScale = 1.0 / t; // a schedule: the lr in device memory changes every step
            float[] grad = gaussianFloats(n, 0.1 * t);
            launcher.write(gradDevice, grad);
            writeScalarsAfterStep(scalars, options, lrScale);
            kernels.adamwAdvance(Grid.of(1, 1, 0), scalars.address());
            kernels.adamwStepF32(Grid.blocks(gridFor(n) / 2 + 1), paramsDevice.address(), gradDevice.address(),
                    expAvg.address(), expAvgSq.address(), n, scalars.address());
            reference.step(referenceParams, Fp32.toDoubles(grad), lrScale);
        }
        float[] got = launcher.readFloats(paramsDevice, n);
        long deviceStep = launcher.readLongs(scalars, 1)[0];
        double[] gotUpdate = new double[n], wantUpdate = new double[n];
        for (int i = 0; i < n; i++) {
            gotUpdate[i] = got[i] - initialParams[i];
            wantUpdate[i] = referenceParams[i] - initialParams[i];
        }
        double[] wantM = reference.state().get("exp_avg"), wantV = reference.state().get("exp_avg_sq");
        double[] gotM = launcher.readFloatsAsDoubles(expAvg, n), gotV = launcher.readFloatsAsDoubles(expAvgSq, n);
        String problem = problems(got);
        if (problem == null && deviceStep != steps) problem = "device step counter is " + deviceStep + " after " + steps + " steps";
        IntToDoubleFunction elementError = i -> Math.abs(gotUpdate[i] - wantUpdate[i]) / Math.max(Math.abs(wantUpdate[i]), 1e-30);
        ParityResult updateResult = new ParityResult("adamw θ (fused, " + steps + " steps)", "n=" + n, "fp32",
                normRelative(gotUpdate, wantUpdate), 1e-4, "‖Δ‖/‖update‖", problem,
                worstPairs(n, elementError, i -> gotUpdate[i], i -> wantUpdate[i]));
        String momentProblem = problems(gotM) != null ? problems(gotM) : problems(gotV);
        IntToDoubleFunction vError = i -> Math.abs(gotV[i] - wantV[i]) / Math.max(Math.abs(wantV[i]), 1e-30);
        ParityResult moments = new ParityResult("adamw m, v (fused, " + steps + " steps)", "n=" + n, "fp32",
                Math.max(normRelative(gotM, wantM), normRelative(gotV, wantV)), 1e-5, "max ‖Δ‖/‖ref‖ of m, v",
                momentProblem, worstPairs(n, vError, i -> gotV[i], i -> wantV[i]));
        return List.of(updateResult, moments);
    }

    /** Writes lr, betas, eps and λ (not the step, which the device advances) into AdamWScalarsInDevice. */
    private void writeScalarsAfterStep(DeviceBuffer scalars, AdamWOptions options, double lrScale) {
        double[] hyper = {options.lr() * lrScale, options.beta1(), options.beta2(), options.eps(), options.weightDecay()};
        launcher.write(new DeviceBuffer(scalars.address() + 8, 8L * hyper.length), hyper);
    }

    // ---- activations ----------------------------------------------------------------------------------------------

    public List<ParityResult> biasActivationF32(Activation activation) {
        int rows = 37, cols = 53, n = rows * cols;
        float[] pre = gaussianFloats(n, 2.5);
        float[] bias = gaussianFloats(cols, 1.0);
        float[] extremes = {-80f, -30f, -12f, 12f, 30f, 80f}; // saturated tails: no overflow, no 0·∞
        System.arraycopy(extremes, 0, pre, 0, extremes.length);
        DeviceBuffer preDevice = launcher.upload(pre);
        DeviceBuffer biasDevice = launcher.upload(bias);
        DeviceBuffer out = launcher.allocate(4L * 4 * n);
        launcher.poison(out);
        kernels.biasActivationF32(Grid.blocks(gridFor(n)), preDevice.address(), biasDevice.address(), rows, cols,
                activation.ordinal(), out.address());
        float[] got = launcher.readFloats(out, 4 * n);
        List<ParityResult> results = new ArrayList<>();
        for (int order = 0; order <= 3; order++) {
            double[] want = new double[n], plane = new double[n];
            for (int i = 0; i < n; i++) {
                float z = pre[i] + bias[i % cols]; // the kernel's fp32 sum, so the reference sees the same z
                want[i] = activation.derivative(order, z);
                plane[i] = got[order * n + i];
            }
            double norm = Math.sqrt(Arrays.stream(want).map(x -> x * x).sum());
            IntToDoubleFunction elementError = i -> Math.abs(plane[i] - want[i]) / Math.max(norm / Math.sqrt(n), 1e-30);
            results.add(new ParityResult("bias+" + activation.configName() + " σ" + "′".repeat(order), rows + "x" + cols,
                    "fp32", normRelative(plane, want), 1e-5, "‖Δ‖/‖ref‖", problems(plane),
                    worstPairs(n, elementError, i -> plane[i], i -> want[i])));
        }
        return results;
    }

    // ---- reduction ------------------------------------------------------------------------------------------------

    /** Batch mean in two launches (grid blocks into partials, then one block); checks the partials too. */
    public ParityResult reduceSumF32(int n, int grid, int threads) {
        float[] x = gaussianFloats(n, 1.0);
        for (int i = 0; i < n; i++) x[i] += 1.0f;
        DeviceBuffer input = launcher.upload(x);
        DeviceBuffer partials = launcher.allocate(4L * grid);
        DeviceBuffer mean = launcher.allocate(4);
        launcher.poison(partials);
        launcher.poison(mean);
        kernels.reduceSumF32(Grid.of(grid, threads, 0), input.address(), n, 1f, partials.address());
        kernels.reduceSumF32(Grid.of(1, 64, 0), partials.address(), grid, 1f / n, mean.address());
        double[] wantPartials = new double[grid];
        double total = 0;
        for (int i = 0; i < n; i++) {
            wantPartials[(i / threads) % grid] += x[i]; // the grid-stride slice of block b
            total += x[i];
        }
        double wantMean = total / n;
        float[] gotPartials = launcher.readFloats(partials, grid);
        double gotMean = launcher.readFloats(mean, 1)[0];
        double worst = Math.abs(gotMean - wantMean) / Math.abs(wantMean);
        for (int b = 0; b < grid; b++) {
            worst = Math.max(worst, Math.abs(gotPartials[b] - wantPartials[b]) / Math.abs(wantPartials[b]));
        }
        if (Double.isNaN(gotMean)) worst = Double.NaN;
        String problem = problems(gotPartials);
        if (problem == null && (Double.isNaN(gotMean) || gotMean == 0)) problem = "mean is " + gotMean;
        List<String> pairs = new ArrayList<>();
        pairs.add(String.format("mean: kernel %.9g, reference %.9g", gotMean, wantMean));
        pairs.addAll(worstPairs(grid, b -> Math.abs(gotPartials[b] - wantPartials[b]) / Math.abs(wantPartials[b]),
                b -> gotPartials[b], b -> wantPartials[b]));
        return new ParityResult("reduce sum (batch mean)", "n=" + n + ", " + grid + "x" + threads + " then 1x64", "fp32",
                worst, 1e-5, "|Δ|/|ref| of mean and partials", problem, pairs);
    }

    /**
     * ebm_row_reduce_f32 over n rows of m, launched as DeviceTape launches it (DeviceKernels.rowReduceThreads(m)
     * threads): the row sums scaled, and row dot products x·y with scale added onto existing values (accumulate), both
     * against fp64 sums of the same fp32 inputs. The error of each row is taken relative to |start| + |scale|·Σ|x·y|,
     * the size any summation order's rounding is measured in, so Gaussian inputs (with cancellation) are fair. The
     * tolerance is the first-order bound for this kernel's order: each product passes ⌈m/threads⌉ serial additions,
     * log2(threads) tree levels, its own rounding, the scale and the accumulate, 2^-24 each. The sums are launched
     * again on one block striding all rows: the result must be the same bits (it depends on m alone, not the grid).
     */
    public ParityResult rowReduceF32(int n, int m) {
        int threads = DeviceKernels.rowReduceThreads(m);
        float scale = -0.3f;
        float[] x = gaussianFloats(n * m, 1.0), y = gaussianFloats(n * m, 1.0), start = gaussianFloats(n, 1.0);
        DeviceBuffer xDevice = launcher.upload(x), yDevice = launcher.upload(y);
        DeviceBuffer sums = launcher.allocate(4L * n), sumsOneBlock = launcher.allocate(4L * n), dots = launcher.upload(start);
        launcher.poison(sums);
        launcher.poison(sumsOneBlock);
        kernels.rowReduceF32(Grid.of(n, threads, 0), xDevice.address(), 0, n, m, scale, 0, sums.address());
        kernels.rowReduceF32(Grid.of(1, threads, 0), xDevice.address(), 0, n, m, scale, 0, sumsOneBlock.address());
        kernels.rowReduceF32(Grid.of(n, threads, 0), xDevice.address(), yDevice.address(), n, m, scale, 1, dots.address());
        float[] gotSums = launcher.readFloats(sums, n), gotOneBlock = launcher.readFloats(sumsOneBlock, n);
        float[] gotDots = launcher.readFloats(dots, n);
        double[] got = new double[2 * n], want = new double[2 * n], size = new double[2 * n];
        for (int i = 0; i < n; i++) {
            double sum = 0, sumAbs = 0, dot = 0, dotAbs = 0;
            for (int j = 0; j < m; j++) {
                double a = x[i * m + j], b = y[i * m + j];
                sum += a;
                sumAbs += Math.abs(a);
                dot += a * b;
                dotAbs += Math.abs(a * b);
            }
            got[i] = gotSums[i];
            want[i] = scale * sum;
            size[i] = Math.abs(scale) * sumAbs;
            got[n + i] = gotDots[i];
            want[n + i] = start[i] + scale * dot;
            size[n + i] = Math.abs(start[i]) + Math.abs(scale) * dotAbs;
        }
        IntToDoubleFunction error = i -> Math.abs(got[i] - want[i]) / size[i];
        double tolerance = (Math.ceilDiv(m, threads) + Integer.numberOfTrailingZeros(threads) + 3) * 0x1p-24;
        String problem = problems(got);
        for (int i = 0; i < n && problem == null; i++) {
            if (Float.floatToRawIntBits(gotOneBlock[i]) != Float.floatToRawIntBits(gotSums[i])) {
                problem = String.format("row %d: %s on one block, %s on %d blocks (must not depend on the grid)", i,
                        gotOneBlock[i], gotSums[i], n);
            }
        }
        List<String> pairs = new ArrayList<>();
        for (String line : worstPairs(2 * n, error, i -> got[i], i -> want[i])) pairs.add("rows 0..n-1 sums, n..2n-1 dots: " + line);
        return new ParityResult("row reduce (rowSum, x·y accumulated)", "n=" + n + ", m=" + m + ", " + n + "x" + threads
                + " and 1x" + threads, "fp32", worst(2 * n, error), tolerance, "|Δ|/(|start| + |scale|·Σ|x·y|)", problem, pairs);
    }

    /**
     * ebm_count_nonfinite_f32 on Gaussian floats with NaN, ±inf planted, and ±FLT_MAX and a subnormal that must not
     * count: the count must be exact, added onto what the counter held, from a many-block launch and a one-block one.
     */
    public ParityResult countNonFiniteF32(int n) {
        float[] x = gaussianFloats(n, 1.0);
        float[] planted = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0xFFC0_0001)};
        float[] finite = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -0f};
        for (int k = 0; k < 12; k++) x[random.nextInt(n)] = planted[k % planted.length];
        for (float v : finite) x[1 + random.nextInt(n - 2)] = v;
        x[0] = Float.NaN; // the first and last elements: the loop bounds
        x[n - 1] = Float.NEGATIVE_INFINITY;
        long want = 0;
        for (float v : x) if (!Float.isFinite(v)) want++;
        long offset = 5;
        DeviceBuffer input = launcher.upload(x);
        DeviceBuffer many = launcher.upload(new long[] {offset}), one = launcher.upload(new long[] {offset});
        kernels.countNonfiniteF32(Grid.blocks(37), input.address(), n, many.address());
        kernels.countNonfiniteF32(Grid.of(1, 1024, 0), input.address(), n, one.address());
        long gotMany = launcher.readLongs(many, 1)[0] - offset, gotOne = launcher.readLongs(one, 1)[0] - offset;
        double worst = Math.max(Math.abs(gotMany - want), Math.abs(gotOne - want));
        return new ParityResult("count non-finite", "n=" + n + ", 37x256 and 1x1024", "fp32", worst, 0,
                "|count − reference|", null,
                List.of(String.format("37 blocks: %d, 1 block: %d, reference %d (NaN, ±inf; ±FLT_MAX, subnormal, -0 not counted)",
                        gotMany, gotOne, want)));
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private float[] gaussianFloats(int n, double scale) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller from SplittableRandom: fresh inputs each run, independent of the Philox under test.
            double u = 1.0 - random.nextDouble(), v = random.nextDouble();
            out[i] = (float) (scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return out;
    }


    /**
     * ‖got − want‖ / ‖want‖; NaN when got holds a NaN, and NaN or ∞ against an all-zero reference (which shows
     * nothing), so neither can pass. The parity checks and the kernel benchmarks' checks share it.
     */
    public static double normRelative(double[] got, double[] want) {
        double diff = 0, ref = 0;
        for (int i = 0; i < want.length; i++) {
            double d = got[i] - want[i];
            diff += d * d;
            ref += want[i] * want[i];
        }
        return Math.sqrt(diff) / Math.sqrt(ref);
    }

    private static double worst(int n, IntToDoubleFunction error) {
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double e = error.applyAsDouble(i);
            if (Double.isNaN(e)) return Double.NaN;
            worst = Math.max(worst, e);
        }
        return worst;
    }

    private static String problems(float[] got) {
        return problems(Fp32.toDoubles(got));
    }

    /** Null when the output is usable; otherwise what is wrong with it (an untouched poisoned output is NaN). */
    static String problems(double[] got) {
        boolean anyNonZero = false;
        for (int i = 0; i < got.length; i++) {
            if (Double.isNaN(got[i])) return "NaN at index " + i + " (never written, or computed as NaN)";
            if (got[i] != 0) anyNonZero = true;
        }
        return anyNonZero ? null : "output is all zeros";
    }

    static List<String> worstPairs(int n, IntToDoubleFunction error, IntToDoubleFunction got, IntToDoubleFunction want) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Comparator<Integer> byError = Comparator.comparingDouble(i -> {
            double e = error.applyAsDouble(i);
            return Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        });
        Arrays.sort(order, byError.reversed());
        List<String> lines = new ArrayList<>();
        for (int k = 0; k < Math.min(PAIRS_SHOWN, n); k++) {
            int i = order[k];
            lines.add(String.format("[%d] kernel %.9g, reference %.9g (error %.2e)", i, got.applyAsDouble(i),
                    want.applyAsDouble(i), error.applyAsDouble(i)));
        }
        return lines;
    }
}
