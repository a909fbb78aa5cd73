package ebm.bench;

import static ebm.backend.cuda.parity.KernelParityChecks.normRelative;

import ebm.EbmException;
import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.optim.DeviceNewtonSchulz;
import ebm.backend.cuda.optim.DeviceOptimizers;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.CublasBlas;
import ebm.backend.cuda.runtime.DeviceArena;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.DriverLauncher;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.runtime.ScopedLauncher;
import ebm.backend.cuda.step.CudaBackends;
import ebm.backend.cuda.tape.DeviceNode;
import ebm.backend.cuda.tape.DeviceParameters;
import ebm.backend.cuda.tape.DeviceTape;
import ebm.config.BackendKind;
import ebm.linalg.CpuThreads;
import ebm.linalg.Gemm;
import ebm.model.BoundEnergy;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import ebm.model.TraceAlgorithm;
import ebm.optim.AdamWOptions;
import ebm.optim.Muon;
import ebm.optim.MuonOptions;
import ebm.optim.Optimizer;
import ebm.optim.Optimizers;
import ebm.rng.RandomStream;
import ebm.tape.Activation;
import ebm.tape.Node;
import ebm.tape.Tape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * `ebm bench kernels`: per kernel family, achieved GB/s or GFLOP/s next to the limit measured in the same run (a
 * copy for bandwidth, a large GEMM per precision for FLOPs). Families: fused AdamW over a flat buffer, Muon's
 * Newton–Schulz iteration alone on one n x n matrix, the MLP forward pass and the exact-trace propagation. Every row runs the
 * engine's own code (DeviceOptimizer/DeviceNewtonSchulz/Mlp on DeviceTape on the CUDA backends, ebm.optim and
 * ebm.model on the CPU),
 * is validated before it is timed, and a row that fails validation is reported failed and not timed.
 *
 * <p>Timing: median of repeats after warm-up. On a GPU each repeat replays a CUDA graph of the operation (as the
 * training step runs it) between two events, with enough copies of the operation in the graph for about a
 * millisecond of work; elsewhere the host clock around the operation and a synchronisation.
 */
public final class KernelBench {
    public static final List<String> FAMILIES = List.of("adamw", "muon-ns5", "forward", "exact-trace");
    public static final String COPY = "limit-copy", GEMM = "limit-gemm";

    private KernelBench() {}

    /**
     * What to run. sizes: AdamW parameter counts; nsSizes: Muon's n; dims/hidden/layers/batch: the MLP shapes;
     * precisions: GEMM precisions of the GEMM families on the CUDA backends (fp64 on the CPU); nsDenseMax: the largest
     * n whose device result is compared with the fp64 CPU Muon on a dense input (above it, a known-answer input);
     * fault: a family whose device/CPU result is corrupted before validation (tests: a failure must be reported).
     */
    public record Settings(BackendKind backend, List<Long> sizes, List<Integer> nsSizes, List<Integer> dims, int hidden,
                           int layers, int batch, List<String> precisions, List<String> families, int warmup,
                           int repeats, int nsDenseMax, long copyElements, int gemmSize, boolean quick, String fault) {
        public Settings {
            java.util.Objects.requireNonNull(backend, "backend");
            for (long n : sizes) if (n < 1 || n > Integer.MAX_VALUE - 16) throw new EbmException("--sizes entry " + n + " must be in [1, 2^31 - 17]");
            for (int n : nsSizes) if (n < 2 || (long) n * n > Integer.MAX_VALUE - 16) throw new EbmException("--ns-sizes entry " + n + " must be in [2, 46340]");
            for (int d : dims) if (d < 1) throw new EbmException("--dims entry " + d + " must be positive");
            if (hidden < 1 || layers < 2 || batch < 1) {
                throw new EbmException("--hidden and --batch must be positive and --layers at least 2, got " + hidden + ", " + layers + ", " + batch);
            }
            for (String f : families) {
                if (!FAMILIES.contains(f)) throw new EbmException("unknown --families entry '" + f + "'; allowed: " + String.join(", ", FAMILIES));
            }
            for (String p : precisions) {
                List<String> allowed = backend == BackendKind.CPU ? List.of("fp64") : List.of("fp32", "tf32", "bf16");
                if (!allowed.contains(p)) {
                    throw new EbmException("--precisions " + p + ": backend " + backend + " offers " + String.join(", ", allowed));
                }
            }
            if (warmup < 0 || repeats < 1) throw new EbmException("--warmup must be >= 0 and --repeats >= 1, got " + warmup + ", " + repeats);
            sizes = List.copyOf(sizes);
            nsSizes = List.copyOf(nsSizes);
            dims = List.copyOf(dims);
            precisions = List.copyOf(precisions);
            families = List.copyOf(families);
        }

        /** The sizes on a GPU; sizes that finish in a couple of minutes on the CPU; small ones for --quick. */
        public static Settings defaults(BackendKind backend, boolean quick) {
            return switch (backend) {
                case CPU -> quick
                        ? new Settings(backend, List.of(1L << 16, 1L << 20), List.of(64, 128), List.of(4, 96), 64, 3, 64,
                                List.of("fp64"), FAMILIES, 1, 3, 0, 1L << 20, 256, true, null)
                        : new Settings(backend, List.of(1L << 20, 1L << 22, 1L << 24), List.of(256, 512, 1024),
                                List.of(16, 64, 256), 512, 3, 256, List.of("fp64"), FAMILIES, 3, 7, 0, 1L << 25, 1024, false, null);
                case CUDA -> quick
                        ? new Settings(backend, List.of(1L << 16, 1L << 20), List.of(256, 1024), List.of(16, 256), 128, 3, 256,
                                List.of("fp32", "tf32", "bf16"), FAMILIES, 3, 10, 1024, 1L << 24, 4096, true, null)
                        : new Settings(backend, List.of(1L << 20, 1L << 24, 1L << 28), List.of(1024, 4096, 8192),
                                List.of(16, 64, 256, 1024), 512, 3, 256, List.of("fp32", "tf32", "bf16"), FAMILIES, 5, 20,
                                4096, 1L << 26, 8192, false, null);
                case CUDA_EMULATED -> quick
                        ? new Settings(backend, List.of(4096L, 1L << 16), List.of(32, 64), List.of(3, 24), 16, 3, 16,
                                List.of("fp32", "bf16"), FAMILIES, 1, 2, 64, 1L << 14, 64, true, null)
                        : new Settings(backend, List.of(1L << 16, 1L << 20), List.of(64, 128), List.of(4, 48), 32, 3, 32,
                                List.of("fp32", "tf32", "bf16"), FAMILIES, 1, 3, 128, 1L << 18, 128, false, null);
            };
        }

        public Settings with(List<Long> sizes, List<Integer> nsSizes, List<Integer> dims, Integer hidden, Integer layers,
                             Integer batch, List<String> precisions, List<String> families, Integer warmup, Integer repeats) {
            return new Settings(backend, sizes != null ? sizes : this.sizes, nsSizes != null ? nsSizes : this.nsSizes,
                    dims != null ? dims : this.dims, hidden != null ? hidden : this.hidden, layers != null ? layers : this.layers,
                    batch != null ? batch : this.batch, precisions != null ? precisions : this.precisions,
                    families != null ? families : this.families, warmup != null ? warmup : this.warmup,
                    repeats != null ? repeats : this.repeats, nsDenseMax, copyElements, gemmSize, quick, fault);
        }

        /** The same settings with one family's result corrupted before validation (a test seam). */
        public Settings withFault(String family) {
            return new Settings(backend, sizes, nsSizes, dims, hidden, layers, batch, precisions, families, warmup, repeats,
                    nsDenseMax, copyElements, gemmSize, quick, family);
        }

        boolean cpu() {
            return backend == BackendKind.CPU;
        }
    }

    /**
     * One measured row. bytes (bandwidth rows) or flops (GEMM rows) per operation; limit in the same unit as the
     * achieved rate (GB/s or GFLOP/s); ms is NaN for a row that failed validation.
     */
    public record Row(String family, String shape, BackendKind backend, String precision, double ms, int reps, long bytes,
                      long flops, double limit, String limitName, double validationError, double tolerance,
                      String status, String validatedAgainst) {
        public boolean bandwidth() {
            return bytes > 0;
        }

        /** GB/s or GFLOP/s. */
        public double achieved() {
            return (bandwidth() ? bytes : flops) / ms / 1e6;
        }

        public String unit() {
            return bandwidth() ? "GB/s" : "GFLOP/s";
        }

        public double share() {
            return achieved() / limit;
        }

        public boolean ok() {
            return status.equals("ok");
        }

        Row withLimit(double newLimit, String name) {
            return new Row(family, shape, backend, precision, ms, reps, bytes, flops, newLimit, name, validationError,
                    tolerance, status, validatedAgainst);
        }
    }

    /** A validation: the relative error against the reference, the tolerance it must meet, and what was compared. */
    record Check(double error, double tolerance, String against) {
        boolean passed() {
            return error <= tolerance; // NaN fails
        }
    }

    /** A row before it is measured (what it times and against which limit), and the three ways it can end. */
    private record Planned(String family, String shape, BackendKind backend, String precision, long bytes, long flops,
                           double limit, String limitName) {
        /** The case threw before it was timed: no timing, no validation error. */
        Row error(RuntimeException e) {
            return row(Double.NaN, 0, Double.NaN, Double.NaN, "error: " + e.getMessage(), "");
        }

        /** The case's result was off: not timed. */
        Row failed(Check check) {
            return row(Double.NaN, 0, check.error(), check.tolerance(), "failed", check.against());
        }

        Row ok(List<Double> times, Check check) {
            return row(median(times), times.size(), check.error(), check.tolerance(), "ok", check.against());
        }

        private Row row(double ms, int reps, double error, double tolerance, String status, String against) {
            return new Row(family, shape, backend, precision, ms, reps, bytes, flops, limit, limitName, error, tolerance,
                    status, against);
        }
    }

    /** What both runners keep: the settings, the log, and the rows in the order they were measured. */
    private abstract static class Runner {
        final Settings s;
        final Consumer<String> log;
        final List<Row> rows = new ArrayList<>();

        Runner(Settings s, Consumer<String> log) {
            this.s = s;
            this.log = log;
        }

        /** Adds a measured row and logs it. */
        void record(Row r) {
            rows.add(r);
            log.accept(describe(r));
        }

        /** Adds a limit row that is its own limit (a GEMM, the CPU's copy) and returns its rate. */
        double recordOwnLimit(Row r) {
            Row limited = r.withLimit(r.achieved(), "itself");
            record(limited);
            return limited.achieved();
        }
    }

    /** A flat parameter buffer of n, for the AdamW rows (AdamW treats every coordinate alike). */
    private static ParamLayout flatLayout(String name, int n) {
        return new ParamLayout.Builder().add(name, 1, n, ParamView.Role.BIAS).build();
    }

    /** One row's work: validate once on fresh inputs, then run the operation as often as timing needs. */
    private interface Case extends AutoCloseable {
        Check validate();

        void run();

        /** FLOPs counted while the case was set up (the tape's counter), for rows that learn them that way. */
        default long countedFlops() {
            return 0;
        }

        /** Gives back what the case holds (device buffers), once its row is measured. */
        @Override
        default void close() {}
    }

    /** The rows and what ran them (the device and BLAS, or the CPU's threads). */
    public record Result(List<Row> rows, String machine) {}

    /** Runs every family at every size; log gets one line per row. Limits first (rows family limit-*). */
    public static Result run(Settings s, Consumer<String> log) {
        if (s.cpu()) {
            List<Row> rows = new CpuRunner(s, log).run();
            return new Result(rows, String.format(Locale.ROOT, "CPU (fp64), %d threads for GEMMs, AdamW and the copy; JDK %d",
                    Gemm.threads(), Runtime.version().feature()));
        }
        DeviceRunner runner = new DeviceRunner(s, log);
        List<Row> rows = runner.run();
        return new Result(rows, runner.description() + "; JDK " + Runtime.version().feature());
    }

    // ---- shared pieces --------------------------------------------------------------------------------------------

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : 0.5 * (sorted.get(n / 2 - 1) + sorted.get(n / 2));
    }

    /** A wrong result for the fault seam: every value doubled (an error of 100%, over every tolerance). */
    private static void corrupt(double[] got) {
        for (int i = 0; i < got.length; i++) got[i] *= 2;
    }

    static double[] gaussian(long seed, int n, double scale) {
        double[] out = new double[n];
        new RandomStream(seed, 0, 0).fillGaussian(out, 0, n, 0);
        for (int i = 0; i < n; i++) out[i] = (float) (scale * out[i]); // fp32-representable: both sides see the same inputs
        return out;
    }

    /** Gaussian values seed/index first.. rounded to fp32, for a chunk of a large buffer. */
    private static double[] gaussianChunk(long seed, long first, int n, double scale) {
        double[] out = new double[n];
        new RandomStream(seed, 0, 0).fillGaussian(out, 0, n, first);
        for (int i = 0; i < n; i++) out[i] = (float) (scale * out[i]);
        return out;
    }

    /** A --sizes entry: "1048576", or with a power-of-two suffix "64K" (2^16), "1M" (2^20), "1G" (2^30). */
    public static long parseCount(String text) {
        String t = text.strip();
        long unit = 1;
        if (!t.isEmpty()) {
            unit = switch (Character.toUpperCase(t.charAt(t.length() - 1))) {
                case 'K' -> 1L << 10;
                case 'M' -> 1L << 20;
                case 'G' -> 1L << 30;
                default -> 1;
            };
            if (unit != 1) t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new EbmException("--sizes entry '" + text + "' is not a count (1048576, 64K, 1M, 1G)");
        }
    }

    static String sizeLabel(long n) {
        return "n=" + n;
    }

    static String mlpLabel(int batch, int dim, int hidden, int layers) {
        return "B=" + batch + " D=" + dim + " H=" + hidden + "x" + layers;
    }

    /**
     * GEMM FLOPs of Muon's Newton–Schulz on an n x n matrix: per step X·Xᵀ, A·A and (bA + cA²)·X, 2n³ each (the device
     * rows check it against the GEMMs DeviceNewtonSchulz queued).
     */
    static long nsFlops(int n, int steps) {
        return 3L * steps * 2L * n * n * n;
    }

    private static final int NS_STEPS = MuonOptions.DEFAULT_NS_STEPS;

    private static final AdamWOptions ADAMW = new AdamWOptions(1e-3, 0.9, 0.999, 1e-8, 0.01);

    /**
     * A known answer for Muon's Newton–Schulz: g = signed permutation times diag(s), so every Gram matrix is diagonal
     * and the iteration acts on each s_i alone (x ← ax + bx³ + cx⁵ after the Frobenius normalisation); returns
     * {g, NewtonSchulz(g)} as dense row-major n x n matrices.
     */
    static double[][] nsKnownAnswer(int n, long seed) {
        RandomStream rng = new RandomStream(seed, 0, 0);
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) { // Fisher–Yates
            int j = rng.below(3L * i, i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        double[] g = new double[n * n], want = new double[n * n], s = new double[n];
        double sumSquares = 0;
        for (int i = 0; i < n; i++) {
            s[i] = (float) ((0.05 + 0.95 * rng.uniform(3L * i + 1)) * (rng.uniform(3L * i + 2) < 0.5 ? -1 : 1));
            sumSquares += s[i] * s[i];
        }
        double inverseNorm = 1.0 / (Math.sqrt(sumSquares) + 1e-7);
        for (int i = 0; i < n; i++) {
            double x = s[i] * inverseNorm;
            for (int step = 0; step < NS_STEPS; step++) x = 3.4445 * x - 4.7750 * x * x * x + 2.0315 * x * x * x * x * x;
            g[i * n + perm[i]] = s[i];
            want[i * n + perm[i]] = x;
        }
        return new double[][] {g, want};
    }

    /**
     * Measures the limits again after the rows (measure adds them to rows) and keeps each limit's better measurement:
     * a shared host's load comes and goes, and a limit caught in a busy moment would inflate every share. The rows'
     * limits and shares then use the kept values (the log's lines used the first measurement).
     */
    private static List<Row> remeasureLimits(List<Row> rows, Consumer<String> log, Runnable measure) {
        int before = rows.size();
        log.accept("limits again, keeping the better of the two measurements:");
        measure.run();
        List<Row> again = new ArrayList<>(rows.subList(before, rows.size()));
        rows.subList(before, rows.size()).clear();
        List<Row> out = new ArrayList<>();
        for (Row r : rows) {
            Row better = r;
            if (r.family().startsWith("limit-")) {
                for (Row a : again) {
                    boolean same = a.family().equals(r.family()) && a.shape().equals(r.shape()) && a.precision().equals(r.precision());
                    if (same && a.ok() && (!r.ok() || a.achieved() > r.achieved())) better = a;
                }
            }
            out.add(better);
        }
        double copy = Double.NaN;
        Map<String, Double> gemm = new HashMap<>();
        for (Row r : out) {
            if (!r.ok()) continue;
            if (r.family().equals(COPY) && !(r.achieved() <= copy)) copy = r.achieved();
            if (r.family().equals(GEMM)) gemm.put("gemm " + r.precision(), r.achieved());
        }
        for (int i = 0; i < out.size(); i++) {
            Row r = out.get(i);
            if (r.family().equals(COPY)) out.set(i, r.withLimit(copy, "best copy"));
            else if (r.family().equals(GEMM)) out.set(i, r.withLimit(r.achieved(), "itself"));
            else if (r.limitName().equals("copy")) out.set(i, r.withLimit(copy, "copy"));
            else out.set(i, r.withLimit(gemm.getOrDefault(r.limitName(), Double.NaN), r.limitName()));
        }
        return out;
    }

    // ---- the CPU (fp64 reference backend) -------------------------------------------------------------------------

    private static final class CpuRunner extends Runner {
        CpuRunner(Settings s, Consumer<String> log) {
            super(s, log);
        }

        List<Row> run() {
            double copyLimit = copyLimit();
            double gemmLimit = gemmLimit();
            for (String family : s.families()) {
                switch (family) {
                    case "adamw" -> {
                        for (long n : s.sizes()) add(family, sizeLabel(n), 56L * n, 0, copyLimit, "copy", adamw((int) n));
                    }
                    case "muon-ns5" -> {
                        for (int n : s.nsSizes()) add(family, sizeLabel(n), 0, nsFlops(n, NS_STEPS), gemmLimit, "gemm fp64", ns(n));
                    }
                    default -> {
                        for (int d : s.dims()) {
                            String shape = mlpLabel(s.batch(), d, s.hidden(), s.layers());
                            MlpCase c = new MlpCase(family, d);
                            add(family, shape, 0, c.flops, gemmLimit, "gemm fp64", c);
                        }
                    }
                }
            }
            return remeasureLimits(rows, log, () -> {
                copyLimit();
                gemmLimit();
            });
        }

        private void add(String family, String shape, long bytes, long flops, double limit, String limitName, Case c) {
            record(measure(family, shape, bytes, flops, limit, limitName, c));
        }

        private Row measure(String family, String shape, long bytes, long flops, double limit, String limitName, Case c) {
            Planned planned = new Planned(family, shape, BackendKind.CPU, "fp64", bytes, flops, limit, limitName);
            Check check;
            try {
                check = c.validate();
            } catch (RuntimeException e) {
                return planned.error(e);
            }
            if (!check.passed()) return planned.failed(check);
            for (int w = 0; w < s.warmup(); w++) c.run();
            List<Double> times = new ArrayList<>();
            for (int r = 0; r < s.repeats(); r++) {
                long t0 = System.nanoTime();
                c.run();
                times.add((System.nanoTime() - t0) / 1e6);
            }
            return planned.ok(times, check);
        }

        /**
         * The CPU's bandwidth limit: an in-place stream dst[i] += src[i], one contiguous chunk per thread (as the AdamW
         * step splits its coordinates): 24 bytes per element, all of them counted. A plain arraycopy would hide a third
         * of its traffic (the destination's lines are read before they are written) and understate the limit.
         */
        private double copyLimit() {
            int n = (int) s.copyElements();
            double[] src = gaussian(21, n, 1), dst = new double[n];
            int tasks = CpuThreads.threads();
            Runnable stream = () -> CpuThreads.parallelFor(tasks, t -> {
                int from = (int) ((long) n * t / tasks), to = (int) ((long) n * (t + 1) / tasks);
                for (int i = from; i < to; i++) dst[i] += src[i];
            });
            Case c = new Case() {
                @Override
                public Check validate() {
                    java.util.Arrays.fill(dst, 0);
                    stream.run();
                    if (COPY.equals(s.fault())) corrupt(dst);
                    return new Check(normRelative(dst, src), 0, "the source array (added to zeros)");
                }

                @Override
                public void run() {
                    stream.run();
                }
            };
            return recordOwnLimit(measure(COPY, sizeLabel(n) + " dst+=src", 24L * n, 0, Double.NaN, "", c));
        }

        /** Gemm.gemm (the routine all CPU GEMMs go through) on a square product. */
        private double gemmLimit() {
            int n = s.gemmSize();
            double[] a = gaussian(22, n * n, 1), b = gaussian(23, n * n, 1), c = new double[n * n];
            Case gemm = new Case() {
                @Override
                public Check validate() {
                    run();
                    double[] got = c.clone();
                    if (GEMM.equals(s.fault())) corrupt(got);
                    return new Check(gemmSampleError(got, a, b, n), 1e-13, "fp64 dot products of 16 entries");
                }

                @Override
                public void run() {
                    Gemm.gemm(false, false, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n);
                }
            };
            return recordOwnLimit(measure(GEMM, "n=" + n, 0, 2L * n * n * n, Double.NaN, "", gemm));
        }

        /**
         * ebm.optim.AdamW over a flat fp64 buffer of n: reads g, θ, m, v and writes θ, m, v (56 bytes per element).
         * Validated on its first step from zero moments, whose answer is known: θ(1 − lr·λ) − lr·g/(|g| + eps).
         */
        private Case adamw(int n) {
            ParamLayout layout = flatLayout("flat", n);
            Optimizer adam = Optimizers.adamw(ADAMW, layout);
            double[] params = gaussian(11, n, 1), grad = gaussian(12, n, 0.1);
            return new Case() {
                @Override
                public Check validate() {
                    double[] want = new double[n];
                    for (int i = 0; i < n; i++) {
                        want[i] = params[i] * (1 - ADAMW.lr() * ADAMW.weightDecay()) - ADAMW.lr() * grad[i] / (Math.abs(grad[i]) + ADAMW.eps());
                    }
                    adam.step(params, grad, 1.0);
                    double[] got = params.clone();
                    if ("adamw".equals(s.fault())) corrupt(got);
                    return new Check(normRelative(got, want), 1e-12, "first step's known answer (fp64)");
                }

                @Override
                public void run() {
                    adam.step(params, grad, 1.0);
                }
            };
        }

        /** Muon.newtonSchulz (fp64) on one n x n matrix; validated on the known-answer input, timed on a dense one. */
        private Case ns(int n) {
            double[][] known = nsKnownAnswer(n, 31);
            double[] dense = gaussian(32, n * n, 1);
            return new Case() {
                @Override
                public Check validate() {
                    double[] got = Muon.newtonSchulz(known[0], n, n, NS_STEPS);
                    if ("muon-ns5".equals(s.fault())) corrupt(got);
                    return new Check(normRelative(got, known[1]), 1e-10, "known answer (signed permutation input)");
                }

                @Override
                public void run() {
                    Muon.newtonSchulz(dense, n, n, NS_STEPS);
                }
            };
        }

        /** Mlp on a fresh Tape: the forward pass (energies) or the exact trace (forward + direction propagation). */
        private final class MlpCase implements Case {
            final String family;
            final int dim, batch;
            final Mlp mlp;
            final double[] params, x;
            final long flops;

            MlpCase(String family, int dim) {
                this.family = family;
                this.dim = dim;
                this.batch = s.batch();
                this.mlp = mlp(dim, s.hidden(), s.layers());
                this.params = mlp.initialParams(1);
                this.x = gaussian(41, batch * dim, 1);
                long before = Gemm.flops();
                run();
                this.flops = Gemm.flops() - before;
            }

            @Override
            public void run() {
                Tape tape = new Tape();
                BoundEnergy<Node> bound = mlp.bind(tape, params);
                Node input = tape.constant(x, batch, dim);
                if (family.equals("forward")) bound.energy(input);
                else bound.exact(input, TraceAlgorithm.AUTO);
            }

            /**
             * forward: the batch's energies against each sample's energy computed alone (a different GEMM path);
             * exact-trace: ΔE and ‖∇ₓE‖² of the first samples against central finite differences of E.
             */
            @Override
            public Check validate() {
                int checked = Math.min(batch, 3);
                Tape tape = new Tape();
                BoundEnergy<Node> bound = mlp.bind(tape, params);
                Node input = tape.constant(x, batch, dim);
                if (family.equals("forward")) {
                    double[] got = Arrays.copyOf(bound.energy(input).value, checked), want = new double[checked];
                    for (int b = 0; b < checked; b++) want[b] = energies(Arrays.copyOfRange(x, b * dim, (b + 1) * dim), 1)[0];
                    if (family.equals(s.fault())) corrupt(got);
                    return new Check(normRelative(got, want), 1e-12, "per-sample energies (fp64)");
                }
                BoundEnergy.Exact<Node> exact = bound.exact(input, TraceAlgorithm.AUTO);
                double[] got = new double[2 * checked], want = new double[2 * checked];
                double h = 5e-2;
                int[] steps = {1, -1, 2, -2};
                for (int b = 0; b < checked; b++) {
                    // Fourth-order central differences along each axis: point 0 is x, then x ± h e_d, x ± 2h e_d.
                    double[] points = new double[(4 * dim + 1) * dim];
                    for (int p = 0; p < 4 * dim + 1; p++) System.arraycopy(x, b * dim, points, p * dim, dim);
                    for (int d = 0; d < dim; d++) {
                        for (int k = 0; k < 4; k++) points[(4 * d + 1 + k) * dim + d] += steps[k] * h;
                    }
                    double[] e = energies(points, 4 * dim + 1);
                    double laplacian = 0, gradSquared = 0;
                    for (int d = 0; d < dim; d++) {
                        double p1 = e[4 * d + 1], m1 = e[4 * d + 2], p2 = e[4 * d + 3], m2 = e[4 * d + 4];
                        laplacian += (-p2 + 16 * p1 - 30 * e[0] + 16 * m1 - m2) / (12 * h * h);
                        double slope = (-p2 + 8 * p1 - 8 * m1 + m2) / (12 * h);
                        gradSquared += slope * slope;
                    }
                    got[2 * b] = exact.laplacian().value[b];
                    got[2 * b + 1] = exact.gradNormSquared().value[b];
                    want[2 * b] = laplacian;
                    want[2 * b + 1] = gradSquared;
                }
                if (family.equals(s.fault())) corrupt(got);
                // h = 0.05 balances truncation (O(h⁴)) and rounding (O(eps·|E|/h²)): measured errors stay below 5e-8.
                return new Check(normRelative(got, want), 1e-6, "4th-order central differences of E, " + checked + " samples (fp64)");
            }

            private double[] energies(double[] points, int rows) {
                Tape tape = new Tape();
                return mlp.bind(tape, params).energy(tape.constant(points, rows, dim)).value;
            }
        }
    }

    static Mlp mlp(int dim, int hidden, int layers) {
        int[] widths = new int[layers];
        Arrays.fill(widths, hidden);
        return new Mlp(new MlpSpec(dim, widths, Activation.SOFTPLUS));
    }

    /** max over 16 entries of |got − fp64 dot| / Σ|a·b| (the scale any summation order's error is measured in). */
    static double gemmSampleError(double[] c, double[] a, double[] b, int n) {
        RandomStream rng = new RandomStream(24, 0, 0);
        double worst = 0;
        for (int e = 0; e < 16; e++) {
            int i = rng.below(2L * e, n), j = rng.below(2L * e + 1, n);
            double sum = 0, scale = 0;
            for (int k = 0; k < n; k++) {
                sum += a[i * n + k] * b[k * n + j];
                scale += Math.abs(a[i * n + k] * b[k * n + j]);
            }
            worst = Math.max(worst, Math.abs(c[i * n + j] - sum) / scale);
            if (Double.isNaN(c[i * n + j])) return Double.NaN;
        }
        return worst;
    }

    static String describe(Row r) {
        if (!r.ok()) {
            return String.format(Locale.ROOT, "%-11s %-26s %-5s %s (validation error %.3g, tolerance %.1g, against %s)",
                    r.family(), r.shape(), r.precision(), r.status().toUpperCase(Locale.ROOT), r.validationError(),
                    r.tolerance(), r.validatedAgainst());
        }
        return String.format(Locale.ROOT, "%-11s %-26s %-5s %10.4f ms  %10.1f %-7s %5.1f%% of %s  (validation %.2g <= %.1g, %d reps)",
                r.family(), r.shape(), r.precision(), r.ms(), r.achieved(), r.unit(), 100 * r.share(), r.limitName(),
                r.validationError(), r.tolerance(), r.reps());
    }

    // ---- the CUDA backends ----------------------------------------------------------------------------------------

    /** Tolerances of the device rows, fp32 / tf32 / bf16 GEMM operands (ARCHITECTURE.md §4: TF32 about 1e-3, bf16 about 1e-2, per op). */
    static double tolerance(String family, String precision) {
        int p = switch (precision) {
            case "fp32" -> 0;
            case "tf32" -> 1;
            default -> 2;
        };
        double[] t = switch (family) {
            case "muon-ns5" -> new double[] {1e-3, 2e-2, 1e-1}; // 15 GEMMs; host-build bf16 errors were 0.017-0.024 at n <= 256
            case "forward" -> new double[] {1e-4, 1e-2, 5e-2};
            case "exact-trace" -> new double[] {2e-3, 5e-2, 2e-1};
            default -> throw new IllegalArgumentException(family);
        };
        return t[p];
    }

    private static final class DeviceRunner extends Runner {
        private final Map<String, Blas> blases = new HashMap<>();
        private CudaBackends.Runtime runtime;
        private KernelLauncher launcher;
        private DeviceKernels kernels;
        private String description;

        DeviceRunner(Settings s, Consumer<String> log) {
            super(s, log);
        }

        List<Row> run() {
            runtime = CudaBackends.open(s.backend());
            try {
                launcher = runtime.launcher();
                kernels = new DeviceKernels(launcher);
                description = runtime.description();
                log.accept("device: " + description);
                double copyLimit = copyLimits();
                Map<String, Double> gemmLimits = new HashMap<>();
                for (String p : s.precisions()) gemmLimits.put(p, gemmLimit(p));
                for (String family : s.families()) {
                    switch (family) {
                        case "adamw" -> {
                            for (long n : s.sizes()) {
                                add(family, sizeLabel(n), "fp32", 28L * n, 0, copyLimit, "copy", () -> adamw((int) n));
                            }
                        }
                        case "muon-ns5" -> {
                            for (int n : s.nsSizes()) {
                                double[][] reference = nsReference(n);
                                for (String p : s.precisions()) {
                                    add(family, sizeLabel(n), p, 0, nsFlops(n, NS_STEPS), gemmLimits.get(p), "gemm " + p,
                                            () -> ns(n, p, reference));
                                }
                            }
                        }
                        default -> {
                            for (int d : s.dims()) {
                                MlpReference reference = new MlpReference(family, d);
                                // shared by the precisions (same sizes, same chunks), freed before the next D's
                                try (DeviceArena arena = new DeviceArena(launcher)) {
                                    for (String p : s.precisions()) {
                                        add(family, mlpLabel(s.batch(), d, s.hidden(), s.layers()), p, 0, -1,
                                                gemmLimits.get(p), "gemm " + p, () -> new DeviceMlpCase(reference, p, arena));
                                    }
                                }
                            }
                        }
                    }
                }
                return remeasureLimits(rows, log, () -> {
                    copyLimits();
                    for (String p : s.precisions()) gemmLimit(p);
                });
            } finally {
                for (Blas b : blases.values()) if (b != runtime.blas()) b.close();
                runtime.close();
            }
        }

        String description() {
            return description;
        }

        private Blas blas(String precision) {
            return blases.computeIfAbsent(precision, p -> {
                Blas.GemmPrecision gp = Blas.GemmPrecision.valueOf(p.toUpperCase(Locale.ROOT));
                if (runtime.blas().precision() == gp) return runtime.blas();
                if (launcher instanceof DriverLauncher driver) return new CublasBlas(driver, gp);
                return new HostBlas(gp);
            });
        }

        private void add(String family, String shape, String precision, long bytes, long flops, double limit,
                         String limitName, java.util.function.Supplier<Case> make) {
            Row r;
            try (Case c = make.get()) { // its buffers go back before the next row allocates
                r = measure(new Planned(family, shape, s.backend(), precision, bytes, flops < 0 ? c.countedFlops() : flops,
                        limit, limitName), c);
            } catch (RuntimeException e) {
                r = new Planned(family, shape, s.backend(), precision, bytes, Math.max(0, flops), limit, limitName).error(e);
            }
            record(r);
        }

        /** Validates, then times; what throws is the caller's error row. */
        private Row measure(Planned planned, Case c) {
            Check check = c.validate();
            if (!check.passed()) return planned.failed(check);
            return planned.ok(time(c::run), check);
        }

        /** Target length of one timed repeat on a GPU: long enough that the two events' resolution does not matter. */
        private static final double REPEAT_MS = 1.0;

        /**
         * ms per operation for each repeat. One eager run first (it also makes the arenas allocate), then on a GPU a
         * graph holding k copies of the operation (k for about {@link #REPEAT_MS}), replayed between two events.
         */
        private List<Double> time(Runnable op) {
            float first = launcher.elapsedMillis(op);
            int k = (int) Math.max(1, Math.min(64, Math.ceil(REPEAT_MS / Math.max(first, 1e-3))));
            KernelLauncher.Graph graph = launcher.capture(() -> {
                for (int i = 0; i < k; i++) op.run();
            });
            int copies = graph == null ? 1 : k;
            Runnable body = graph == null ? op : graph::replay;
            try {
                for (int w = 0; w < s.warmup(); w++) launcher.elapsedMillis(body);
                List<Double> times = new ArrayList<>();
                for (int r = 0; r < s.repeats(); r++) times.add((double) launcher.elapsedMillis(body) / copies);
                return times;
            } finally {
                if (graph != null) graph.close();
            }
        }

        /** Uploads fp64 values (fp32-representable) as fp32 into dst from element offset. */
        private void write(DeviceBuffer dst, long offset, double[] values) {
            launcher.writeAsFloats(new DeviceBuffer(dst.address() + 4 * offset, 4L * values.length), values);
        }

        private double[] read(DeviceBuffer src, long offset, int count) {
            return launcher.readFloatsAsDoubles(new DeviceBuffer(src.address() + 4 * offset, 4L * count), count);
        }

        private static final int CHUNK = 1 << 22;

        /** Device-to-device copies of copyElements floats (8 bytes per element): the copy kernel, and cuMemcpyDtoD on a GPU. */
        private double copyLimits() {
            try (ScopedLauncher scope = new ScopedLauncher(launcher)) { // both buffers freed once the rows are measured
                return copyLimits(scope);
            }
        }

        private double copyLimits(ScopedLauncher scope) {
            long n = s.copyElements();
            DeviceBuffer src = scope.allocate(4 * n, "copy source"), dst = scope.allocate(4 * n, "copy destination");
            for (long off = 0; off < n; off += CHUNK) write(src, off, gaussianChunk(21, off, (int) Math.min(CHUNK, n - off), 1));
            List<Row> copies = new ArrayList<>();
            copies.add(copyRow(n, src, dst, "kernel ebm_combine_f32", () -> kernels.copy(src.address(), dst.address(), n)));
            if (launcher instanceof DriverLauncher driver) {
                copies.add(copyRow(n, src, dst, "cuMemcpyDtoDAsync", () -> driver.copyAsync(src, dst, 4 * n)));
            }
            double best = Double.NaN;
            for (Row r : copies) if (r.ok() && !(r.achieved() <= best)) best = r.achieved();
            for (Row r : copies) {
                record(r.withLimit(best, "best copy"));
            }
            return best;
        }

        private Row copyRow(long n, DeviceBuffer src, DeviceBuffer dst, String how, Runnable op) {
            Case c = new Case() {
                @Override
                public Check validate() {
                    launcher.poison(dst);
                    op.run();
                    launcher.synchronize();
                    double worst = 0;
                    for (long off = 0; off < n; off += CHUNK) { // every element: a copy must be exact
                        int len = (int) Math.min(CHUNK, n - off);
                        double[] got = read(dst, off, len);
                        if (COPY.equals(s.fault())) corrupt(got);
                        worst = Math.max(worst, normRelative(got, gaussianChunk(21, off, len, 1)));
                    }
                    return new Check(worst, 0, "the source buffer");
                }

                @Override
                public void run() {
                    op.run();
                }
            };
            Planned planned = new Planned(COPY, sizeLabel(n) + " " + how, s.backend(), "fp32", 8 * n, 0, Double.NaN, "");
            try {
                return measure(planned, c);
            } catch (RuntimeException e) {
                return planned.error(e);
            }
        }

        /** A square GEMM of gemmSize through the Blas at this precision (cuBLAS on a GPU). */
        private double gemmLimit(String precision) {
            try (ScopedLauncher scope = new ScopedLauncher(launcher)) { // A, B and C freed once the row is measured
                return gemmLimit(precision, scope);
            }
        }

        private double gemmLimit(String precision, ScopedLauncher scope) {
            int n = s.gemmSize();
            double[] a = gaussian(22, n * n, 1), b = gaussian(23, n * n, 1);
            DeviceBuffer da = scope.allocate(4L * n * n, "GEMM A"), db = scope.allocate(4L * n * n, "GEMM B"),
                    dc = scope.allocate(4L * n * n, "GEMM C");
            write(da, 0, a);
            write(db, 0, b);
            Blas blas = blas(precision);
            double tolerance = switch (precision) {
                case "fp32" -> 1e-4;
                case "tf32" -> 3e-3;
                default -> 1e-2;
            };
            Case gemm = new Case() {
                @Override
                public Check validate() {
                    launcher.poison(dc);
                    run();
                    double[] got = read(dc, 0, n * n);
                    if (GEMM.equals(s.fault())) corrupt(got);
                    // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: the gemm below computes that.
                    return new Check(gemmSampleError(got, a, b, n), tolerance, "fp64 dot products of 16 entries");
                }

                @Override
                public void run() {
                    blas.gemm(false, false, n, n, n, 1f, db.address(), n, da.address(), n, 0f, dc.address(), n);
                }
            };
            Planned planned = new Planned(GEMM, "n=" + n, s.backend(), precision, 0, 2L * n * n * n, Double.NaN, "");
            Row r;
            try {
                r = measure(planned, gemm);
            } catch (RuntimeException e) {
                r = planned.error(e);
            }
            return recordOwnLimit(r);
        }

        /**
         * The training step's AdamW (DeviceOptimizer: kernels/adamw.cu, one launch over the flat buffer plus the
         * one-thread advance): reads g, θ, m, v and writes θ, m, v, 28 bytes per parameter. Validated over every
         * parameter after two steps with different gradients against ebm.optim.AdamW (fp64) run chunk by chunk
         * (elementwise, so the same as one run over the whole buffer), on the update θ₂ − θ₀.
         */
        private Case adamw(int n) {
            ParamLayout layout = flatLayout("flat", n);
            return new ScopedCase() { // the optimizer's state and both buffers
                final DeviceOptimizers.Handle adam = setUp(() -> DeviceOptimizers.open(ADAMW, layout, scope, blas("fp32")));
                final DeviceBuffer params = setUp(() -> scope.allocate(4L * n, "AdamW parameters"));
                final DeviceBuffer grad = setUp(() -> scope.allocate(4L * n, "AdamW gradient"));

                @Override
                public Check validate() {
                    for (long off = 0; off < n; off += CHUNK) write(params, off, gaussianChunk(11, off, (int) Math.min(CHUNK, n - off), 1));
                    for (int step = 0; step < 2; step++) {
                        for (long off = 0; off < n; off += CHUNK) {
                            write(grad, off, gaussianChunk(12 + step, off, (int) Math.min(CHUNK, n - off), 0.1));
                        }
                        adam.step(params.address(), grad.address());
                    }
                    launcher.synchronize();
                    double diff = 0, norm = 0;
                    for (long off = 0; off < n; off += CHUNK) {
                        int len = (int) Math.min(CHUNK, n - off);
                        double[] start = gaussianChunk(11, off, len, 1), want = start.clone();
                        Optimizer reference = Optimizers.adamw(ADAMW, flatLayout("chunk", len));
                        reference.step(want, gaussianChunk(12, off, len, 0.1), 1.0);
                        reference.step(want, gaussianChunk(13, off, len, 0.1), 1.0);
                        double[] got = read(params, off, len);
                        if ("adamw".equals(s.fault())) corrupt(got);
                        for (int i = 0; i < len; i++) {
                            double d = (got[i] - start[i]) - (want[i] - start[i]);
                            diff += d * d;
                            norm += (want[i] - start[i]) * (want[i] - start[i]);
                        }
                    }
                    // fp32 θ (|θ| ~ 1) carries an update of ~2e-3 to about 3e-8/2e-3 relative: 1e-4 as in ebm validate.
                    return new Check(Math.sqrt(diff / norm), 1e-4, "ebm.optim.AdamW (fp64), update after 2 steps, every element");
                }

                @Override
                public void run() {
                    adam.step(params.address(), grad.address());
                }
            };
        }

        /**
         * The CPU side of an NS row, once per n: {g, NewtonSchulz(g)} from ebm.optim.Muon.newtonSchulz (fp64) on a dense
         * Gaussian g for n ≤ nsDenseMax (the fp64 reference costs 30n³ flops on the host), else the known answer.
         */
        private double[][] nsReference(int n) {
            if (n > s.nsDenseMax()) return nsKnownAnswer(n, 31);
            double[] g = gaussian(33, n * n, 1);
            return new double[][] {g, Muon.newtonSchulz(g, n, n, NS_STEPS)};
        }

        /**
         * The training step's Newton–Schulz (DeviceNewtonSchulz, as Muon runs it: device norm, 5 quintic steps with
         * the coefficients in the GEMMs' α/β) on one n x n matrix, GEMMs at this precision. The FLOPs counted are the
         * 15 GEMMs' (checked against what the call queued); the time includes the norm, the normalisation and the two
         * copies per step that the β-folded GEMMs need.
         */
        private Case ns(int n, String precision, double[][] reference) {
            long size = (long) n * n;
            boolean dense = n <= s.nsDenseMax();
            return new ScopedCase() { // Newton-Schulz's buffers and the input
                final DeviceNewtonSchulz newtonSchulz = setUp(() -> new DeviceNewtonSchulz(scope, kernels, blas(precision), size, size));
                final DeviceBuffer g = setUp(() -> scope.allocate(4 * size, "Newton-Schulz input"));

                @Override
                public Check validate() {
                    write(g, 0, reference[0]);
                    long out = newtonSchulz.orthogonalise(g.address(), n, n, NS_STEPS);
                    launcher.synchronize();
                    if (newtonSchulz.flops() != nsFlops(n, NS_STEPS)) {
                        return new Check(Double.NaN, tolerance("muon-ns5", precision), "the GEMM count: the call queued "
                                + newtonSchulz.flops() + " FLOPs, the row counts " + nsFlops(n, NS_STEPS));
                    }
                    double[] got = read(new DeviceBuffer(out, 4 * size), 0, (int) size);
                    if ("muon-ns5".equals(s.fault())) corrupt(got);
                    if (!dense) write(g, 0, gaussian(33, (int) size, 1)); // timed on a dense input either way
                    return new Check(normRelative(got, reference[1]), tolerance("muon-ns5", precision),
                            dense ? "ebm.optim.Muon.newtonSchulz (fp64), dense Gaussian input" : "known answer (signed permutation input)");
                }

                @Override
                public void run() {
                    newtonSchulz.orthogonalise(g.address(), n, n, NS_STEPS);
                }
            };
        }

        /** The CPU model, inputs and fp64 reference outputs of an MLP row, shared by its precisions. */
        private final class MlpReference {
            final String family;
            final int dim;
            final MlpSpec spec;
            final double[] params, x, want;

            MlpReference(String family, int dim) {
                this.family = family;
                this.dim = dim;
                Mlp mlp = mlp(dim, s.hidden(), s.layers());
                this.spec = mlp.spec();
                double[] p = mlp.initialParams(1);
                for (int i = 0; i < p.length; i++) p[i] = (float) p[i];
                this.params = p;
                this.x = gaussian(41, s.batch() * dim, 1);
                Tape tape = new Tape();
                BoundEnergy<Node> bound = mlp.bind(tape, params);
                Node input = tape.constant(x, s.batch(), dim);
                if (family.equals("forward")) {
                    want = bound.energy(input).value.clone();
                } else {
                    BoundEnergy.Exact<Node> exact = bound.exact(input, TraceAlgorithm.AUTO);
                    want = concat(exact.laplacian().value, exact.gradNormSquared().value);
                }
            }
        }

        private static double[] concat(double[] a, double[] b) {
            double[] out = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, out, a.length, b.length);
            return out;
        }

        /**
         * A case whose device memory comes from a scope of its own: close frees it, and so does a failure while the
         * case is set up (setUp wraps each step of that).
         */
        private abstract class ScopedCase implements Case {
            final ScopedLauncher scope = new ScopedLauncher(launcher);

            /** One step of setting the case up; when it fails, everything the scope holds is freed before it is thrown. */
            final <T> T setUp(Supplier<T> step) {
                try {
                    return step.get();
                } catch (RuntimeException e) {
                    scope.close();
                    throw e;
                }
            }

            @Override
            public void close() {
                scope.close();
            }
        }

        /** The Mlp on a DeviceTape (the training step's code): energies, or ΔE and ‖∇ₓE‖² by the exact trace. */
        private final class DeviceMlpCase extends ScopedCase {
            final MlpReference reference;
            final String precision;
            final DeviceArena arena;
            final Mlp mlp;
            final Blas blas;
            final DeviceBuffer params, x;
            final long flops;
            DeviceNode[] outputs;

            DeviceMlpCase(MlpReference reference, String precision, DeviceArena arena) {
                this.reference = reference;
                this.precision = precision;
                this.arena = arena;
                this.mlp = new Mlp(reference.spec);
                this.blas = blas(precision);
                this.params = setUp(() -> scope.allocate(4L * reference.params.length, "MLP parameters"));
                this.x = setUp(() -> scope.allocate(4L * reference.x.length, "MLP input"));
                // the scope holds the parameters and input; the tape's memory is the arena's, freed with it after
                // every precision's row
                this.flops = setUp(() -> {
                    write(params, 0, reference.params);
                    write(x, 0, reference.x);
                    return build();
                });
            }

            /** Queues the operation on a fresh tape (the arena rewound, so addresses repeat); returns its GEMM FLOPs. */
            long build() {
                arena.reset();
                DeviceTape tape = new DeviceTape(kernels, blas, arena);
                BoundEnergy<DeviceNode> bound = mlp.bind(tape, new DeviceParameters(tape, params.address(), 0));
                DeviceNode input = tape.constant(x.address(), s.batch(), reference.dim);
                if (reference.family.equals("forward")) {
                    outputs = new DeviceNode[] {bound.energy(input)};
                } else {
                    BoundEnergy.Exact<DeviceNode> exact = bound.exact(input, TraceAlgorithm.AUTO);
                    outputs = new DeviceNode[] {exact.laplacian(), exact.gradNormSquared()};
                }
                return tape.flops();
            }

            @Override
            public void run() {
                build();
            }

            @Override
            public long countedFlops() {
                return flops;
            }

            @Override
            public Check validate() {
                build();
                launcher.synchronize();
                double[] got = new double[0];
                for (DeviceNode n : outputs) got = concat(got, launcher.readFloatsAsDoubles(new DeviceBuffer(n.address(), n.bytes()), (int) n.size()));
                if (reference.family.equals(s.fault())) corrupt(got);
                return new Check(normRelative(got, reference.want), tolerance(reference.family, precision),
                        "ebm.model.Mlp (fp64)" + (reference.family.equals("forward") ? ", energies" : ", ΔE and ‖∇ₓE‖²"));
            }
        }
    }
}
