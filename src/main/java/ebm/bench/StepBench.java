package ebm.bench;

import ebm.EbmException;
import ebm.linalg.CpuThreads;
import ebm.linalg.Gemm;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.objective.Objective;
import ebm.optim.AdamWOptions;
import ebm.optim.Optimizer;
import ebm.optim.Optimizers;
import ebm.rng.RandomStream;
import ebm.tape.Activation;
import ebm.tape.Tape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * CPU training-step benchmark: one step = loss + parameter gradient + AdamW on a softplus MLP, fp64, batch B.
 * Each row is validated before it is timed (the two exact algorithms must agree on the loss; every loss and
 * gradient must be finite). FLOPs are the dense-product FLOPs the step issues (2mnk per product, counted by the
 * matrix-multiply routine); the elementwise work is on top, and its size is the tape's bytes per step. The limits
 * are measured in the same run: the same routine on a 1024³ product and on the step's own GEMM shapes
 * ({@link #gemmShapes}); a row whose implied GFLOP/s exceeds every measured limit is timed again and, if it still
 * does, flagged ({@link Row#exceedsLimit}): such a time is a measuring error, not a result.
 */
public final class StepBench {
    public record Shape(int dim, int hidden, int layers) {
        public static Shape parse(String s) {
            String[] p = s.split("x");
            try {
                if (p.length == 3) return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
            } catch (NumberFormatException e) {
                // the message below
            }
            throw new EbmException("--shapes entries are DxHxL (e.g. 64x256x3), got '" + s + "'");
        }

        @Override
        public String toString() {
            return "D=" + dim + " H=" + hidden + "x" + layers;
        }
    }

    /** One GEMM C[m×n] = op(A)·op(B) with k the inner size; trans is NN, NT (B transposed) or TN (A transposed). */
    public record GemmShape(int m, int n, int k, String trans) {
        public static final GemmShape SQUARE_1024 = new GemmShape(1024, 1024, 1024, "NN");

        @Override
        public String toString() {
            return m + "x" + n + "x" + k + ":" + trans;
        }
    }

    /**
     * One timed row: the median and the spread (fastest and slowest step) of its repeats, the GEMM FLOPs and tape
     * bytes of one step, and whether the implied rate stayed above every measured limit after a re-timing.
     */
    public record Row(String method, Shape shape, int batch, double msPerStep, double msMin, double msMax, int reps,
                      double gflopPerStep, long tapeBytesPerStep, boolean exceedsLimit) {
        public double gflops() {
            return gflopPerStep / (msPerStep / 1000);
        }

        Row flagged() {
            return new Row(method, shape, batch, msPerStep, msMin, msMax, reps, gflopPerStep, tapeBytesPerStep, true);
        }
    }

    public static final List<String> METHODS = List.of("exact-per-dimension", "exact-row-space", "hutchinson-1", "sliced-1",
            "denoising");
    public static final List<Shape> SHAPES = List.of(new Shape(2, 128, 3), new Shape(64, 256, 3), new Shape(512, 128, 3));
    static final double SIGMA = 0.1;

    private StepBench() {}

    /** The objective a method names (TraceBench's spellings: exact-*, hutchinson[-rademacher]-K, sliced-K, denoising). */
    static Objective objective(String method) {
        return TraceBench.objective(method, SIGMA);
    }

    /** Directions per sample the step pushes through the hidden layers (its GEMMs are (B·r) × H by H × H). */
    public static int directions(String method, Shape shape) {
        return objective(method).directionsPerSample(shape.dim(), shape.hidden());
    }

    /**
     * 1024³ and the dominant GEMMs of each (shape, method): the directions' propagation (B·r)×H×H with the weight
     * transposed, and the weight gradient H×H×(B·r) with the adjoint transposed. A peer's dgemm is measured at the
     * same list (`bench/peers/numpy_dgemm.py --shapes`), so both limits are read at the step's own sizes.
     */
    public static List<GemmShape> gemmShapes(List<Shape> shapes, List<String> methods, int batch) {
        Set<GemmShape> out = new LinkedHashSet<>();
        out.add(GemmShape.SQUARE_1024);
        for (Shape s : shapes) {
            for (String m : methods) {
                int rows = Math.multiplyExact(batch, directions(m, s));
                out.add(new GemmShape(rows, s.hidden(), s.hidden(), "NT"));
                out.add(new GemmShape(s.hidden(), s.hidden(), rows, "TN"));
            }
        }
        return List.copyOf(out);
    }

    /** GFLOP/s of the matrix-multiply routine on an n x n x n product: the practical limit of this machine. */
    public static double gemmRate(int n) {
        return gemmRate(new GemmShape(n, n, n, "NN"));
    }

    /** GFLOP/s of the matrix-multiply routine at one shape, one call on all threads (the best of five batches). */
    public static double gemmRate(GemmShape g) {
        double[][] abc = operands(g);
        return bestRate(() -> call(g, abc), 2.0 * g.m() * g.n() * g.k());
    }

    /**
     * GFLOP/s of one of the step's products as the CPU step runs it: the batch's rows split into the chunks of a
     * gradient evaluation ({@link Objective#cpuGradientChunkRows}), each chunk's product single-threaded and the
     * chunks side by side on the threads. The split dimension is the one that carries the batch (m for NT, k for TN).
     */
    public static double stepGemmRate(GemmShape full, int batch) {
        int[] chunkRows = Objective.cpuGradientChunkRows(batch);
        boolean splitK = full.trans().equals("TN");
        int perRow = (splitK ? full.k() : full.m()) / batch;
        GemmShape[] parts = new GemmShape[chunkRows.length];
        double[][][] buffers = new double[parts.length][][];
        double flop = 0;
        for (int c = 0; c < parts.length; c++) {
            int rows = chunkRows[c] * perRow;
            parts[c] = splitK ? new GemmShape(full.m(), full.n(), rows, "TN") : new GemmShape(rows, full.n(), full.k(), full.trans());
            buffers[c] = operands(parts[c]);
            flop += 2.0 * parts[c].m() * parts[c].n() * parts[c].k();
        }
        // a step dispatches its chunks once and each runs all its products: so do the calls here, not one dispatch
        // per product (the pool's hand-off, ~50 µs, would dominate the small ones)
        int repeats = 64;
        Runnable step = () -> CpuThreads.forEachChunk(parts.length, c -> {
            for (int i = 0; i < repeats; i++) call(parts[c], buffers[c]);
        });
        return bestRate(step, flop * repeats);
    }

    private static double[][] operands(GemmShape g) {
        double[] a = new double[Math.multiplyExact(g.m(), g.k())], b = new double[Math.multiplyExact(g.k(), g.n())];
        new RandomStream(1, 0, 0).fillGaussian(a, 0, a.length, 0);
        new RandomStream(2, 0, 0).fillGaussian(b, 0, b.length, 0);
        return new double[][] {a, b, new double[Math.multiplyExact(g.m(), g.n())]};
    }

    private static void call(GemmShape g, double[][] abc) {
        boolean ta = g.trans().equals("TN"), tb = g.trans().equals("NT");
        Gemm.gemm(ta, tb, g.m(), g.n(), g.k(), 1, abc[0], 0, ta ? g.m() : g.k(), abc[1], 0, tb ? g.k() : g.n(), 0, abc[2], 0, g.n());
    }

    /**
     * The best of five timed batches of calls, each batch about 50 ms, after 0.3 s of untimed calls (a shape's path
     * through the routine runs interpreted until the JIT has compiled it: without the warm-up a small product read
     * at a fifth of its rate).
     */
    private static double bestRate(Runnable call, double flopPerCall) {
        for (long warmEnd = System.nanoTime() + 300_000_000L; System.nanoTime() < warmEnd; ) call.run();
        long t0 = System.nanoTime();
        call.run();
        int calls = (int) Math.max(1, Math.min(10_000, 50e6 / Math.max(1, System.nanoTime() - t0)));
        double best = 0;
        for (int r = 0; r < 5; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) call.run();
            best = Math.max(best, flopPerCall * calls / ((System.nanoTime() - start) * 1e-9) / 1e9);
        }
        return best;
    }

    /** One row, validated then timed; timed again (once) if its rate exceeds limitGflops, and flagged if it still does. */
    public static Row run(String method, Shape shape, int batch, double budgetSeconds, double limitGflops) {
        Row r = run(method, shape, batch, budgetSeconds);
        if (r.gflops() <= limitGflops) return r;
        Row again = run(method, shape, batch, budgetSeconds);
        return again.gflops() <= limitGflops ? again : again.flagged();
    }

    public static Row run(String method, Shape shape, int batch, double budgetSeconds) {
        int[] hidden = new int[shape.layers()];
        Arrays.fill(hidden, shape.hidden());
        Mlp mlp = new Mlp(new MlpSpec(shape.dim(), hidden, Activation.SOFTPLUS));
        double[] params = mlp.initialParams(1);
        double[] x = new double[batch * shape.dim()];
        new RandomStream(3, 0, 0).fillGaussian(x, 0, x.length, 0);
        Objective objective = objective(method);
        Optimizer adam = Optimizers.adamw(new AdamWOptions(1e-3, 0.9, 0.999, 1e-8, 0), mlp.layout());
        double[] grad = new double[params.length];
        // validate before timing
        double loss = objective.evaluate(mlp, params, x, batch, 1, grad);
        if (!Double.isFinite(loss)) throw new IllegalStateException(method + ": non-finite loss " + loss);
        for (double g : grad) if (!Double.isFinite(g)) throw new IllegalStateException(method + ": non-finite gradient");
        if (method.startsWith("exact")) {
            String other = method.equals("exact-row-space") ? "exact-per-dimension" : "exact-row-space";
            double check = objective(other).evaluate(mlp, params, x, batch, 1, null);
            if (Math.abs(check - loss) > 1e-10 * Math.max(1, Math.abs(loss))) {
                throw new IllegalStateException(method + " loss " + loss + " disagrees with " + other + " " + check);
            }
        }
        long flopsBefore = Gemm.flops(), bytesBefore = Tape.bytesAllocated();
        objective.evaluate(mlp, params, x, batch, 2, grad);
        adam.step(params, grad, 1.0);
        double gflop = (Gemm.flops() - flopsBefore) / 1e9;
        long tapeBytes = Tape.bytesAllocated() - bytesBefore;
        // warm-up: the JIT compiles the vector kernels over the first second or so
        long step = 3;
        for (long warmEnd = System.nanoTime() + 1_500_000_000L; step < 8 || System.nanoTime() < warmEnd; step++) {
            objective.evaluate(mlp, params, x, batch, step, grad);
            adam.step(params, grad, 1.0);
            if (step >= 200) break;
        }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (budgetSeconds * 1e9);
        for (; times.size() < 3 || (System.nanoTime() < end && times.size() < 50); step++) {
            long t0 = System.nanoTime();
            objective.evaluate(mlp, params, x, batch, step, grad);
            adam.step(params, grad, 1.0);
            times.add((System.nanoTime() - t0) / 1e6);
        }
        times.sort(null);
        return new Row(method, shape, batch, times.get(times.size() / 2), times.getFirst(), times.getLast(), times.size(),
                gflop, tapeBytes, false);
    }

    /**
     * Memory bandwidth of this machine for the elementwise passes: GB/s of a fused multiply-add sweep
     * (y = a·x + y over 32 MB arrays, 24 bytes per element moved), best of five, on one thread.
     */
    public static double streamBandwidth() {
        int n = 1 << 22;
        double[] xs = new double[n], ys = new double[n];
        Arrays.fill(xs, 1.0);
        double best = 0;
        for (int r = 0; r < 6; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) ys[i] = Math.fma(0.5, xs[i], ys[i]);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            if (r > 0) best = Math.max(best, 24.0 * n / seconds / 1e9);
        }
        if (!(ys[0] > 0)) throw new IllegalStateException("bandwidth sweep lost its result");
        return best;
    }
}
