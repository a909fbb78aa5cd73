package ebm.bench;

import ebm.EbmException;
import ebm.backend.cuda.step.CudaBackends;
import ebm.config.BackendKind;
import ebm.data.DataSources;
import ebm.data.Density;
import ebm.data.SyntheticOptions;
import ebm.io.Npy;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.model.TraceAlgorithm;
import ebm.objective.DenoisingObjective;
import ebm.objective.ExactObjective;
import ebm.objective.HutchPlusPlusObjective;
import ebm.objective.HutchinsonObjective;
import ebm.objective.Objective;
import ebm.objective.ProbeDistribution;
import ebm.objective.SlicedObjective;
import ebm.optim.AdamWOptions;
import ebm.optim.Optimizer;
import ebm.optim.Optimizers;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.tape.Activation;
import ebm.tape.Tape;
import ebm.train.Evaluation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Exact Hessian trace against its estimators, on the CPU (fp64). For every method and input dimension D, on the same
 * softplus MLP (seeded init) and the same batch of Gaussian-mixture points:
 * <ol>
 *   <li>cost of a full training step (loss + parameter gradient + AdamW): median ms after warm-up, GEMM FLOPs and
 *       the tape bytes the step allocates (its working set on the CPU), after a validation step;</li>
 *   <li>the estimator's error against the exact objective from R independent probe/noise draws at the initial
 *       parameters (draws differ by {@code step});</li>
 *   <li>quality per second: AdamW for the same wall-clock budget on the mixture, true Fisher divergence on held-out
 *       points, with a curve of Fisher against training seconds.</li>
 * </ol>
 */
public final class TraceBench {
    public static final List<String> DEFAULT_METHODS = List.of("exact-per-dimension", "exact-row-space", "hutchinson-1",
            "hutchinson-4", "hutchinson-16", "hutchinson-rademacher-4", "sliced-1", "sliced-4", "hutch++-6", "denoising");
    public static final List<Integer> DEFAULT_DIMS = List.of(2, 8, 32, 128, 512);
    public static final String METHOD_SPELLINGS = "exact-per-dimension, exact-row-space, hutchinson-K, "
            + "hutchinson-rademacher-K, sliced-K, sliced-rademacher-K, hutch++-K, denoising (K = probes per sample)";

    private static final Pattern PROBED = Pattern.compile("(hutchinson|sliced|hutch\\+\\+)(-rademacher)?-(\\d+)");
    private static final long PROBE_SEED = 1;
    private static final long MODEL_SEED = 1;
    private static final long DATA_SEED = 0;
    /** Steps of the error draws start here, far from the timing and training steps, so their draws never overlap. */
    private static final long ERROR_STEP_BASE = 1_000_000;
    /**
     * Above this D a row is timing only: the mixture's dense covariances (8 random D×D factors, O(D³) each to make:
     * 7 s at D = 1024 on one core, about 7 minutes at 4096) and the fp64 CPU reference (loss, gradient, Fisher
     * scores) no longer fit a bench run, so there is no estimator error and no Fisher at budget, and the batch is
     * standard normal. The GPU rows from D = 4096 up to 10⁶ are such rows.
     */
    public static final int REFERENCE_MAX_DIM = 1024;
    /** The CPU cross-check of the two exact algorithms (per-dimension costs D directions) runs up to this D. */
    private static final int CROSS_CHECK_MAX_DIM = 1024;

    private TraceBench() {}

    /**
     * Everything a run needs. timingSeconds bounds the timed repetitions of one row (at least 3, at most 30);
     * maxStepSeconds skips a row whose warm step would take longer (said in the report, never hung on).
     */
    public record Settings(List<Integer> dims, int hidden, int layers, int batch, List<String> methods,
                           double budgetSeconds, int errorDraws, double warmupSeconds, double timingSeconds,
                           double maxStepSeconds, double sigma, double lr, int trainPoints, int heldOutPoints,
                           int curvePoints, BackendKind backend, String precision) {
        public Settings {
            if (dims.isEmpty()) throw new EbmException("--dims needs at least one dimension");
            for (int d : dims) if (d < 1) throw new EbmException("--dims entries must be >= 1, got " + d);
            if (hidden < 1) throw new EbmException("--hidden must be >= 1, got " + hidden);
            if (layers < 1) throw new EbmException("--layers must be >= 1, got " + layers);
            if (batch < 1) throw new EbmException("--batch must be >= 1, got " + batch);
            if (methods.isEmpty()) throw new EbmException("--methods needs at least one method");
            for (String m : methods) objective(m, 0.1);
            if (!(budgetSeconds > 0)) throw new EbmException("--budget must be > 0 seconds, got " + budgetSeconds);
            if (errorDraws < 2) throw new EbmException("--draws must be >= 2, got " + errorDraws);
            if (!(sigma > 0)) throw new EbmException("--sigma must be > 0, got " + sigma);
            if (!(lr > 0)) throw new EbmException("--lr must be > 0, got " + lr);
            dims = List.copyOf(dims);
            methods = List.copyOf(methods);
            backend = backend == null ? BackendKind.CPU : backend;
            // the CPU is fp64 only; the CUDA backends take the GEMM modes of the config's `precision`
            precision = precision == null ? (backend == BackendKind.CPU ? "fp64" : "fp32") : precision;
            List<String> allowed = backend == BackendKind.CPU ? List.of("fp64") : List.of("fp32", "tf32", "bf16");
            if (!allowed.contains(precision)) {
                throw new EbmException("--precision " + precision + ": backend " + backend + " takes " + String.join(", ", allowed));
            }
        }

        /** The CSV's backend column: where the step ran and in what precision. */
        public String backendLabel() {
            return backend.configName() + "-" + precision;
        }

        /** Another backend and precision (null: the backend's own, fp64 on the CPU and fp32 on the CUDA backends). */
        public Settings withBackend(BackendKind backend, String precision) {
            return new Settings(dims, hidden, layers, batch, methods, budgetSeconds, errorDraws, warmupSeconds,
                    timingSeconds, maxStepSeconds, sigma, lr, trainPoints, heldOutPoints, curvePoints, backend, precision);
        }

        /** The full grid, or with quick a small one that finishes in about a minute on 2 cores. */
        public static Settings defaults(boolean quick) {
            return quick
                    ? new Settings(List.of(2, 16), 32, 2, 64, DEFAULT_METHODS, 1.0, 10, 0.3, 0.3, 2.0, 0.1, 2e-3, 2048, 256, 8, BackendKind.CPU, null)
                    : new Settings(DEFAULT_DIMS, 128, 3, 256, DEFAULT_METHODS, 5.0, 30, 1.0, 1.5, 2.0, 0.1, 2e-3, 4096, 1000, 12, BackendKind.CPU, null);
        }

        public Settings with(List<Integer> dims, Integer hidden, Integer layers, Integer batch, List<String> methods,
                             Double budget, Integer draws) {
            return new Settings(dims != null ? dims : this.dims, hidden != null ? hidden : this.hidden,
                    layers != null ? layers : this.layers, batch != null ? batch : this.batch,
                    methods != null ? methods : this.methods, budget != null ? budget : budgetSeconds,
                    draws != null ? draws : errorDraws, warmupSeconds, timingSeconds, maxStepSeconds, sigma, lr,
                    trainPoints, heldOutPoints, curvePoints, backend, precision);
        }

        public Settings withTiming(double warmup, double timing, double maxStep) {
            return new Settings(dims, hidden, layers, batch, methods, budgetSeconds, errorDraws, warmup, timing, maxStep,
                    sigma, lr, trainPoints, heldOutPoints, curvePoints, backend, precision);
        }

        public Settings withData(int train, int heldOut, int curve) {
            return new Settings(dims, hidden, layers, batch, methods, budgetSeconds, errorDraws, warmupSeconds,
                    timingSeconds, maxStepSeconds, sigma, lr, train, heldOut, curve, backend, precision);
        }
    }

    /** One point of a training curve: Fisher divergence after this many seconds of training (evaluation excluded). */
    public record CurvePoint(double seconds, long steps, double fisher) {}

    /**
     * One (method, D) result. NaN / -1 mark what was not measured; skipped says why (empty when measured).
     * gradRelVar: mean‖g − g_exact‖²/‖g_exact‖² for unbiased estimators; for denoising mean‖g − ḡ‖²/‖g_exact‖²
     * (its spread alone), with the bias ‖ḡ − g_exact‖/‖g_exact‖ in gradRelBias.
     */
    /**
     * One row. msMin and msMax: the fastest and slowest timed step (the spread of the median); exceedsLimit: its
     * GEMM FLOPs per second stayed above the GEMM rate measured in the same run after a re-timing (a measuring error).
     */
    public record Row(String method, int dim, int hidden, int layers, int batch, double msPerStep, int reps,
                      double msMin, double msMax, boolean exceedsLimit, long peakBytes, double gflopPerStep, double lossExact, double lossMean, double lossRelVar,
                      double gradRelVar, double gradRelBias, double fisherAtBudget, long trainSteps,
                      List<CurvePoint> curve, String skipped) {
        public boolean measured() {
            return skipped.isEmpty();
        }

        public boolean exact() {
            return isExact(method);
        }
    }

    public static boolean isExact(String method) {
        return method.startsWith("exact-");
    }

    public static boolean isDenoising(String method) {
        return method.equals("denoising");
    }

    /** The objective a method name stands for; unknown names are one-line errors listing the spellings. */
    public static Objective objective(String method, double sigma) {
        switch (method) {
            case "exact-per-dimension":
                return new ExactObjective(TraceAlgorithm.PER_DIMENSION);
            case "exact-row-space":
                return new ExactObjective(TraceAlgorithm.ROW_SPACE);
            case "denoising":
                return new DenoisingObjective(sigma, PROBE_SEED);
            default:
                break;
        }
        Matcher m = PROBED.matcher(method);
        if (!m.matches()) throw new EbmException("unknown method '" + method + "'; allowed: " + METHOD_SPELLINGS);
        int probes;
        try {
            probes = Integer.parseInt(m.group(3));
        } catch (NumberFormatException e) {
            throw new EbmException("method '" + method + "': probe count too large");
        }
        if (probes < 1) throw new EbmException("method '" + method + "': needs at least 1 probe");
        ProbeDistribution dist = m.group(2) != null ? ProbeDistribution.RADEMACHER : ProbeDistribution.GAUSSIAN;
        return switch (m.group(1)) {
            case "hutchinson" -> new HutchinsonObjective(probes, dist, PROBE_SEED);
            case "sliced" -> new SlicedObjective(probes, dist, PROBE_SEED);
            default -> new HutchPlusPlusObjective(probes, dist, PROBE_SEED);
        };
    }

    static Mlp model(int dim, int hidden, int layers) {
        int[] widths = new int[layers];
        Arrays.fill(widths, hidden);
        return new Mlp(new MlpSpec(dim, widths, Activation.SOFTPLUS));
    }

    /** The benchmark's data in D dimensions: the default mixture (8 components, condition 10, mean scale 2). */
    static Density mixture(int dim) {
        return DataSources.byName("mixture", DATA_SEED, SyntheticOptions.defaults(dim));
    }

    /** The exact loss and gradient at one point, checked across both exact algorithms (to 1e-10, relative). */
    public record ExactReference(double loss, double[] grad) {}

    public static ExactReference exactReference(Mlp mlp, double[] params, double[] x, int batch, boolean crossCheck) {
        double[] rowSpace = new double[params.length];
        double loss = new ExactObjective(TraceAlgorithm.ROW_SPACE).evaluate(mlp, params, x, batch, 0, rowSpace);
        requireFinite("exact-row-space", loss, rowSpace);
        if (crossCheck) {
            double[] perDim = new double[params.length];
            double other = new ExactObjective(TraceAlgorithm.PER_DIMENSION).evaluate(mlp, params, x, batch, 0, perDim);
            double lossDiff = Math.abs(other - loss) / Math.max(1, Math.abs(loss));
            double gradDiff = Math.sqrt(squaredDistance(perDim, rowSpace) / Math.max(1e-300, squaredNorm(rowSpace)));
            if (lossDiff > 1e-10 || gradDiff > 1e-10) {
                throw new IllegalStateException(String.format("D=%d: exact algorithms disagree: loss %.17g vs %.17g, "
                        + "gradient relative difference %.3g", mlp.dim(), loss, other, gradDiff));
            }
        }
        return new ExactReference(loss, rowSpace);
    }

    /** Loss and gradient spread of a method over R draws, against the exact ones, at fixed parameters. */
    public record EstimatorError(double lossMean, double lossRelVar, double gradRelVar, double gradRelBias) {}

    public static EstimatorError estimatorError(String method, Objective objective, Mlp mlp, double[] params, double[] x,
                                                int batch, ExactReference exact, int draws) {
        return estimatorError(method, (xs, step, grad) -> objective.evaluate(mlp, params, xs, batch, step, grad), x,
                params.length, exact, draws);
    }

    /** A loss and its gradient at fixed parameters for a batch and a step (which keys the probes or noise). */
    interface LossAndGradient {
        double at(double[] x, long step, double[] grad);
    }

    static EstimatorError estimatorError(String method, LossAndGradient objective, double[] x, int n, ExactReference exact,
                                         int draws) {
        double[] losses = new double[draws];
        double[][] grads = new double[draws][n];
        double[] meanGrad = new double[n];
        for (int r = 0; r < draws; r++) {
            losses[r] = objective.at(x, ERROR_STEP_BASE + r, grads[r]);
            requireFinite(method, losses[r], grads[r]);
        }
        // Means and variances are taken relative to the first draw, so identical draws give exactly zero spread.
        for (int i = 0; i < n; i++) {
            double shift = 0;
            for (double[] g : grads) shift += (g[i] - grads[0][i]) / draws;
            meanGrad[i] = grads[0][i] + shift;
        }
        double sum = 0, sumSquares = 0;
        for (double l : losses) {
            sum += l - losses[0];
            sumSquares += (l - losses[0]) * (l - losses[0]);
        }
        double lossMean = losses[0] + sum / draws;
        double lossVar = Math.max(0, (sumSquares - sum * sum / draws) / (draws - 1));
        double exactNorm2 = squaredNorm(exact.grad());
        // Unbiased estimators: the mean squared error against g_exact (its variance, whatever bias R draws show is
        // sampling noise). Denoising is biased by design, so its spread is taken around its own mean.
        double[] centre = isDenoising(method) ? meanGrad : exact.grad();
        double spread = 0;
        for (double[] g : grads) spread += squaredDistance(g, centre) / draws;
        double bias = Math.sqrt(squaredDistance(meanGrad, exact.grad()) / exactNorm2);
        return new EstimatorError(lossMean, lossVar / (exact.loss() * exact.loss()), spread / exactNorm2, bias);
    }

    /**
     * Runs the whole grid; progress lines go to log. On a CUDA backend one runtime (context, kernel module, BLAS
     * handle) serves every row; each row's training steps free their device memory when the row is done.
     */
    public static List<Row> run(Settings s, Consumer<String> log) {
        return run(s, Double.POSITIVE_INFINITY, log);
    }

    /**
     * The grid, with every row's implied GEMM GFLOP/s checked against gemmLimit (the GEMM rate measured in the same
     * run): a row above it is timed again, and flagged if it still is.
     */
    public static List<Row> run(Settings s, double gemmLimit, Consumer<String> log) {
        if (s.backend() == BackendKind.CPU) {
            warmUpEveryMethod(s);
            return run(s, null, gemmLimit, log);
        }
        // Fails here, once, with the backend's own message (no GPU, no kernels) rather than skipping every row.
        try (CudaBackends.Runtime runtime = CudaBackends.open(s.backend(), CudaBackends.precision(s.precision()))) {
            log.accept("backend " + s.backend() + ": " + runtime.description());
            return run(s, runtime, gemmLimit, log);
        }
    }

    private static List<Row> run(Settings s, CudaBackends.Runtime runtime, double gemmLimit, Consumer<String> log) {
        List<Row> rows = new ArrayList<>();
        for (int dim : s.dims()) {
            Mlp mlp = model(dim, s.hidden(), s.layers());
            double[] init = mlp.initialParams(MODEL_SEED);
            if (dim > REFERENCE_MAX_DIM) {
                double[] batchX = new double[s.batch() * dim];
                new RandomStream(DATA_SEED, 0, Streams.DATA).fillGaussian(batchX, 0, batchX.length, 0);
                log.accept(String.format("D=%d: timing only (D > %d: no dense mixture, no fp64 reference); standard "
                        + "normal batch", dim, REFERENCE_MAX_DIM));
                for (String method : s.methods()) {
                    Row row = runOne(s, runtime, gemmLimit, method, mlp, init, batchX, null, null, 0, null, null);
                    rows.add(row);
                    log.accept(row.measured()
                            ? String.format("D=%-4d %-24s %9.3f ms/step  %8.1f MB", dim, method, row.msPerStep(),
                                    row.peakBytes() / 1e6)
                            : String.format("D=%-4d %-24s skipped: %s", dim, method, row.skipped()));
                }
                continue;
            }
            Density density = mixture(dim);
            int nTrain = Math.max(s.trainPoints(), s.batch());
            double[] train = DataSources.trainSamples(density, DATA_SEED, nTrain).data();
            Npy.Matrix heldOut = DataSources.validationSamples(density, DATA_SEED, s.heldOutPoints());
            double[] trueScores = trueScores(density, heldOut);
            checkCachedFisher(mlp, init, heldOut, trueScores, density);
            double[] batchX = Arrays.copyOf(train, s.batch() * dim);
            boolean anyExact = s.methods().stream().anyMatch(TraceBench::isExact);
            ExactReference exact = exactReference(mlp, init, batchX, s.batch(), anyExact && dim <= CROSS_CHECK_MAX_DIM);
            log.accept(String.format("D=%d: exact loss %.6g at init; exact algorithms agree (checked: %s)", dim,
                    exact.loss(), anyExact && dim <= CROSS_CHECK_MAX_DIM));
            for (String method : s.methods()) {
                Row row = runOne(s, runtime, gemmLimit, method, mlp, init, batchX, exact, train, nTrain, heldOut, trueScores);
                rows.add(row);
                log.accept(row.measured()
                        ? String.format("D=%-4d %-24s %9.3f ms/step  %8.1f MB  loss var %.2e  grad var %.2e  bias %.2e  "
                                + "Fisher@%.0fs %.4g (%d steps)", dim, method, row.msPerStep(), row.peakBytes() / 1e6,
                                row.lossRelVar(), row.gradRelVar(), row.gradRelBias(), s.budgetSeconds(),
                                row.fisherAtBudget(), row.trainSteps())
                        : String.format("D=%-4d %-24s skipped: %s", dim, method, row.skipped()));
            }
        }
        return rows;
    }

    /**
     * The JIT compiles each objective's kernels on first use; without this the first D's rows (and their training
     * budget) would pay for it. Half the per-row warm-up per method, at the smallest D.
     */
    private static void warmUpEveryMethod(Settings s) {
        int dim = s.dims().stream().mapToInt(Integer::intValue).min().orElseThrow();
        Mlp mlp = model(dim, s.hidden(), s.layers());
        double[] params = mlp.initialParams(MODEL_SEED);
        double[] x = Arrays.copyOf(DataSources.trainSamples(mixture(dim), DATA_SEED, s.batch()).data(), s.batch() * dim);
        double[] grad = new double[params.length];
        for (String method : s.methods()) {
            Objective objective = objective(method, s.sigma());
            long end = System.nanoTime() + (long) (s.warmupSeconds() * 0.5e9);
            for (long step = 0; step < 3 || System.nanoTime() < end; step++) objective.evaluate(mlp, params, x, s.batch(), step, grad);
        }
    }

    /**
     * One row. exact == null marks a timing-only row (D above {@link #REFERENCE_MAX_DIM}). A named failure of the
     * backend (out of device memory, say) skips the row with its message; the other rows still run.
     */
    private static Row runOne(Settings s, CudaBackends.Runtime runtime, double gemmLimit, String method, Mlp mlp, double[] init,
                              double[] batchX, ExactReference exact, double[] train, int nTrain, Npy.Matrix heldOut,
                              double[] trueScores) {
        double lossExact = exact == null ? Double.NaN : exact.loss();
        Objective objective = objective(method, s.sigma());
        try {
            return measure(s, runtime, gemmLimit, method, objective, mlp, init, batchX, exact, train, nTrain, heldOut, trueScores);
        } catch (EbmException e) {
            return skipped(s, method, mlp.dim(), -1, Double.NaN, lossExact, e.getMessage());
        }
    }

    private static Row measure(Settings s, CudaBackends.Runtime runtime, double gemmLimit, String method, Objective objective, Mlp mlp,
                               double[] init, double[] batchX, ExactReference exact, double[] train, int nTrain,
                               Npy.Matrix heldOut, double[] trueScores) {
        int dim = mlp.dim(), batch = s.batch();
        double lossExact = exact == null ? Double.NaN : exact.loss();
        StepTimes times;
        MethodRunner.Cost cost;
        try (MethodRunner runner = MethodRunner.open(s, runtime, objective, mlp, init)) {
            // Validate before timing: a finite loss and gradient, and the exact methods' loss equal to the reference
            // (the exact algorithms were cross-checked per D; the GPU computes in fp32). The gradient's non-finite
            // elements are counted where it lives: on the GPU it is not copied back (10⁸ floats at D = 10⁶).
            long t0 = System.nanoTime();
            MethodRunner.Checked checked = runner.checkedLossAndGradient(batchX, 1);
            double loss = checked.loss();
            double firstSeconds = (System.nanoTime() - t0) * 1e-9;
            requireFinite(method, loss, checked.nonFiniteGradient());
            if (exact != null && isExact(method) && Math.abs(loss - exact.loss()) > runner.lossTolerance() * Math.max(1, Math.abs(exact.loss()))) {
                throw new IllegalStateException(method + " loss " + loss + " differs from the exact reference " + exact.loss());
            }
            cost = runner.measureStep(batchX, 2);
            double stepSeconds = Math.min(firstSeconds, cost.seconds());
            if (stepSeconds > s.maxStepSeconds()) {
                return skipped(s, method, dim, cost.peakBytes(), cost.gflop(), lossExact, String.format(
                        "one step took %.1f s > %.1f s (--max-step-seconds)", stepSeconds, s.maxStepSeconds()));
            }
            times = timeSteps(s, runner, batchX, 3);
            if (times.median() > 0 && cost.gflop() / (times.median() / 1000) > gemmLimit) {
                // faster than the GEMM rate measured in this run allows: a measuring error, so time it once more
                times = timeSteps(s, runner, batchX, 3 + times.steps()).flaggedAbove(cost.gflop(), gemmLimit);
            }
        }
        double ms = times.median();
        int reps = times.reps();
        if (exact == null) {
            return new Row(method, dim, s.hidden(), s.layers(), batch, ms, reps, times.min(), times.max(), times.exceedsLimit(),
                    cost.peakBytes(), cost.gflop(), Double.NaN,
                    Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, List.of(), "");
        }

        // Exact methods draw nothing, so two evaluations show their zero spread (measured, not assumed) cheaply.
        int draws = isExact(method) ? 2 : s.errorDraws();
        EstimatorError err;
        try (MethodRunner runner = MethodRunner.open(s, runtime, objective, mlp, init)) {
            err = estimatorError(method, runner::lossAndGradient, batchX, init.length, exact, draws);
        }
        Training t = train(s, runtime, objective, mlp, init, train, nTrain, heldOut, trueScores);
        return new Row(method, dim, s.hidden(), s.layers(), batch, ms, reps, times.min(), times.max(), times.exceedsLimit(),
                cost.peakBytes(), cost.gflop(), lossExact,
                err.lossMean(), err.lossRelVar(), err.gradRelVar(), err.gradRelBias(), t.fisher(), t.steps(), t.curve(), "");
    }

    /** The timed steps of one row: median, fastest, slowest, how many, and the warm-up and timed steps taken. */
    record StepTimes(double median, double min, double max, int reps, long steps, boolean exceedsLimit) {
        StepTimes flaggedAbove(double gflop, double gemmLimit) {
            return new StepTimes(median, min, max, reps, steps, gflop / (median / 1000) > gemmLimit);
        }
    }

    /** Warm-up then timed training steps on the row's batch, from step firstStep (every step draws afresh). */
    private static StepTimes timeSteps(Settings s, MethodRunner runner, double[] batchX, long firstStep) {
        long step = firstStep;
        for (long warmEnd = System.nanoTime() + (long) (s.warmupSeconds() * 1e9); System.nanoTime() < warmEnd && step < firstStep + 200; step++) {
            runner.trainStepOnSameBatch(batchX, step);
        }
        List<Double> times = new ArrayList<>();
        long timingEnd = System.nanoTime() + (long) (s.timingSeconds() * 1e9);
        for (; times.size() < 3 || (System.nanoTime() < timingEnd && times.size() < 30); step++) {
            long start = System.nanoTime();
            runner.trainStepOnSameBatch(batchX, step);
            times.add((System.nanoTime() - start) / 1e6);
        }
        times.sort(null);
        return new StepTimes(times.get(times.size() / 2), times.getFirst(), times.getLast(), times.size(), step - firstStep, false);
    }

    private static Row skipped(Settings s, String method, int dim, long peakBytes, double gflop, double lossExact,
                               String why) {
        return new Row(method, dim, s.hidden(), s.layers(), s.batch(), Double.NaN, 0, Double.NaN, Double.NaN, false,
                peakBytes, gflop, lossExact,
                Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, List.of(), why);
    }

    record Training(double fisher, long steps, List<CurvePoint> curve) {}

    /**
     * AdamW from the seeded init for budgetSeconds of training time (Fisher evaluations are not on the clock), batches
     * taken in order around the training set; Fisher to the truth on held-out points at curvePoints even intervals.
     */
    static Training train(Settings s, CudaBackends.Runtime runtime, Objective objective, Mlp mlp, double[] init,
                          double[] train, int nTrain, Npy.Matrix heldOut, double[] trueScores) {
        int dim = mlp.dim(), batch = s.batch();
        double[] x = new double[batch * dim];
        List<CurvePoint> curve = new ArrayList<>();
        curve.add(new CurvePoint(0, 0, fisher(mlp, init, heldOut, trueScores)));
        long budgetNanos = (long) (s.budgetSeconds() * 1e9), trained = 0, steps = 0;
        long nextEval = budgetNanos / s.curvePoints();
        int cursor = 0;
        try (MethodRunner runner = MethodRunner.open(s, runtime, objective, mlp, init)) {
            while (trained < budgetNanos) {
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(train, cursor * dim, x, b * dim, dim);
                    cursor = (cursor + 1) % nTrain;
                }
                long t0 = System.nanoTime();
                double loss = runner.trainStep(x, 10 + steps);
                trained += System.nanoTime() - t0;
                steps++;
                if (!Double.isFinite(loss)) break; // the curve ends at the last finite point; Fisher says the rest
                if (trained >= nextEval || trained >= budgetNanos) {
                    curve.add(new CurvePoint(trained * 1e-9, steps, fisher(mlp, runner.params(), heldOut, trueScores)));
                    nextEval += budgetNanos / s.curvePoints();
                }
            }
            double last = fisher(mlp, runner.params(), heldOut, trueScores);
            if (curve.getLast().steps() != steps) curve.add(new CurvePoint(trained * 1e-9, steps, last));
            return new Training(last, steps, curve);
        }
    }

    static double[] trueScores(Density density, Npy.Matrix points) {
        int d = points.cols();
        double[] out = new double[points.rows() * d];
        for (int i = 0; i < points.rows(); i++) density.score(points.data(), i * d, out, i * d);
        return out;
    }

    static double fisher(Mlp mlp, double[] params, Npy.Matrix heldOut, double[] trueScores) {
        int n = heldOut.rows(), d = heldOut.cols();
        double[] scores = Evaluation.modelScores(mlp, params, heldOut.data(), n);
        return Evaluation.fisherDivergence(scores, heldOut.data(), n, d,
                (i, out) -> System.arraycopy(trueScores, i * d, out, 0, d));
    }

    /** The cached truth must give what Evaluation.fisherToTruth gives (checked once per D, at the init). */
    private static void checkCachedFisher(Mlp mlp, double[] params, Npy.Matrix heldOut, double[] trueScores,
                                          Density density) {
        double cached = fisher(mlp, params, heldOut, trueScores);
        double direct = Evaluation.fisherToTruth(Evaluation.modelScores(mlp, params, heldOut.data(), heldOut.rows()),
                heldOut.data(), heldOut.rows(), density);
        if (Math.abs(cached - direct) > 1e-12 * Math.abs(direct)) {
            throw new IllegalStateException("cached true scores give Fisher " + cached + ", fisherToTruth " + direct);
        }
    }

    private static void requireFinite(String method, double loss, double[] grad) {
        long nonFinite = 0;
        for (double g : grad) if (!Double.isFinite(g)) nonFinite++;
        requireFinite(method, loss, nonFinite);
    }

    private static void requireFinite(String method, double loss, long nonFiniteGradient) {
        if (!Double.isFinite(loss)) throw new IllegalStateException(method + ": non-finite loss " + loss);
        if (nonFiniteGradient > 0) throw new IllegalStateException(method + ": non-finite gradient");
    }

    static double squaredNorm(double[] a) {
        double s = 0;
        for (double v : a) s += v * v;
        return s;
    }

    static double squaredDistance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return s;
    }
}
