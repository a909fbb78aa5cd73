package ebm.bench;

import ebm.linalg.Gemm;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Speed of {@link Gemm#gemm} on square sizes and the shapes the engine runs (GFLOP/s, flops = 2*m*n*k), on one
 * thread and on all threads. Each shape is first checked against {@link Gemm#naive} (on the first rows of C
 * only when the naive loop would take too long), and the two thread counts are checked to agree bitwise.
 * Usage: GemmBench [quick] [LABEL...]  ("quick" skips the largest shapes; labels, e.g. A^T*B, pick shapes).
 */
public final class GemmBench {
    private GemmBench() {}

    /** One benchmarked call: C[m x n] = op(A) op(B), op(A) [m x k]. */
    private record Shape(String label, boolean transA, boolean transB, int m, int n, int k) {}

    /** Naive reference work per shape is capped at this many flops by checking only the first rows of C. */
    private static final double NAIVE_FLOP_BUDGET = 3e8;
    /** Timed repeats are chosen so one measurement takes about this long. */
    private static final double SECONDS_PER_MEASUREMENT = 1.5;

    public static void main(String[] args) {
        boolean quick = Arrays.asList(args).contains("quick");
        java.util.List<String> labels = Arrays.stream(args).filter(x -> !x.equals("quick")).toList();
        Shape[] shapes = {
            new Shape("square", false, false, 256, 256, 256),
            new Shape("square", false, false, 512, 512, 512),
            new Shape("square", false, false, 1024, 1024, 1024),
            new Shape("square", false, false, 2048, 2048, 2048),
            new Shape("X*W^T", false, true, 16384, 128, 128),
            new Shape("X*W^T", false, true, 16384, 512, 512),
            new Shape("X*W^T", false, true, 16384, 1024, 1024),
            new Shape("X*W^T", false, true, 512, 512, 512),
            new Shape("X*W", false, false, 16384, 512, 512),
            new Shape("X*W", false, false, 512, 1024, 1024),
            new Shape("A^T*B", true, false, 128, 128, 262144),
            new Shape("A^T*B", true, false, 512, 512, 16384),
            new Shape("A^T*B", true, false, 1024, 1024, 16384),
            new Shape("A^T*B^T", true, true, 512, 512, 4096),
            new Shape("small", false, true, 256, 128, 2),
            new Shape("small", false, false, 256, 128, 2),
            new Shape("small", false, true, 256, 64, 64),
            new Shape("small", false, true, 256, 128, 128),
            new Shape("small", false, true, 512, 256, 128),
        };
        int allThreads = Gemm.threads();
        System.out.printf("Gemm benchmark: %d threads available (ebm.threads or processors); GFLOP/s = 2mnk / median time%n",
                allThreads);
        System.out.printf("%-8s %5s %6s %5s %7s | %9s %9s | %8s %s%n",
                "shape", "trans", "m", "n", "k", "1 thread", allThreads + " threads", "speedup", "check (max|err|/max|ref|, rows checked)");
        for (Shape s : shapes) {
            if (quick && (double) s.m * s.n * s.k > 3e9) continue;
            if (!labels.isEmpty() && !labels.contains(s.label)) continue;
            run(s, allThreads);
        }
    }

    private static void run(Shape s, int allThreads) {
        SplittableRandom rng = new SplittableRandom(42);
        int lda = s.transA ? s.m : s.k;
        int ldb = s.transB ? s.k : s.n;
        double[] a = random(rng, (long) s.m * s.k);
        double[] b = random(rng, (long) s.k * s.n);
        double[] c = new double[s.m * s.n];
        double[] cAll = new double[s.m * s.n];

        Gemm.withThreads(1, () -> Gemm.gemm(s.transA, s.transB, s.m, s.n, s.k, 1.0, a, 0, lda, b, 0, ldb, 0.0, c, 0, s.n));
        Gemm.withThreads(allThreads, () ->
                Gemm.gemm(s.transA, s.transB, s.m, s.n, s.k, 1.0, a, 0, lda, b, 0, ldb, 0.0, cAll, 0, s.n));
        String check = check(s, a, lda, b, ldb, c);
        boolean sameBits = Arrays.equals(c, cAll);
        if (!sameBits) check += "  THREAD COUNTS DISAGREE";

        double t1 = time(s, 1, a, lda, b, ldb, c);
        double tAll = time(s, allThreads, a, lda, b, ldb, cAll);
        double gflop = 2.0 * s.m * s.n * s.k / 1e9;
        String trans = (s.transA ? "T" : "N") + (s.transB ? "T" : "N");
        System.out.printf("%-8s %5s %6d %5d %7d | %9.1f %9.1f | %7.2fx %s%n",
                s.label, trans, s.m, s.n, s.k, gflop / t1, gflop / tAll, t1 / tAll, check);
    }

    /** Naive result on the first rows of C (the fast result's rows do not depend on how many are computed). */
    private static String check(Shape s, double[] a, int lda, double[] b, int ldb, double[] c) {
        int rows = (int) Math.max(1, Math.min(s.m, NAIVE_FLOP_BUDGET / (2.0 * s.n * s.k)));
        double[] ref = new double[rows * s.n];
        Gemm.naive(s.transA, s.transB, rows, s.n, s.k, 1.0, a, 0, lda, b, 0, ldb, 0.0, ref, 0, s.n);
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(c[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        double rel = maxErr / maxRef;
        return String.format("%.1e (%d rows)%s", rel, rows, rel < 1e-12 ? "" : "  FAILED");
    }

    /** Median seconds of one call with the given thread count, after a warm-up. */
    private static double time(Shape s, int threads, double[] a, int lda, double[] b, int ldb, double[] c) {
        double[] seconds = new double[1];
        Gemm.withThreads(threads, () -> {
            Runnable call = () -> Gemm.gemm(s.transA, s.transB, s.m, s.n, s.k, 1.0, a, 0, lda, b, 0, ldb, 0.0, c, 0, s.n);
            double estimate = Double.MAX_VALUE;
            long warmStart = System.nanoTime();
            for (int w = 0; w < 3 || System.nanoTime() - warmStart < 300_000_000L; w++) {
                long t0 = System.nanoTime();
                call.run();
                estimate = Math.min(estimate, (System.nanoTime() - t0) / 1e9);
            }
            int repeats = (int) Math.max(3, Math.min(201, SECONDS_PER_MEASUREMENT / estimate / 5));
            double[] samples = new double[repeats];
            // Each sample times a batch of calls, so tiny calls are not dominated by the clock.
            int batch = (int) Math.max(1, Math.min(1000, 1e-3 / estimate));
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < batch; i++) call.run();
                samples[r] = (System.nanoTime() - t0) / 1e9 / batch;
            }
            Arrays.sort(samples);
            seconds[0] = samples[repeats / 2];
        });
        return seconds[0];
    }

    private static double[] random(SplittableRandom rng, long count) {
        double[] x = new double[Math.toIntExact(count)];
        for (int i = 0; i < x.length; i++) x[i] = rng.nextDouble(-1, 1);
        return x;
    }
}
