package ebm.backend.cuda.parity;

import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.KernelLauncher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A {@link Blas} implementation against a naive fp64 triple loop with cuBLAS's semantics (column-major, op(A) and
 * op(B), leading dimensions larger than the rows, α and β, strided batches with gaps between matrices), on fresh
 * random inputs in the launcher's device memory. Every case checks three things: the m×n block matches the
 * reference within the precision's tolerance; nothing outside it (the padding rows up to ldc, the gaps between
 * batched matrices) was written; and with β = 0, C, filled with NaN beforehand, is not read.
 *
 * Tolerances (‖Δ‖/‖ref‖ over the m×n blocks) and why:
 * <ul>
 *   <li>FP32 1e-5: fp32 products summed in fp32 over k ≤ 64 terms give ≈ √k·6e-8 ≈ 5e-7; TF32 rounding would give
 *       ~5e-4, so a GEMM that silently used TF32 fails.</li>
 *   <li>TF32 5e-3: inputs keep 10 mantissa bits (relative error up to 2^-11 ≈ 4.9e-4 rounded, 2^-10 truncated),
 *       two per product, accumulation in fp32: about 5e-4 to 1e-3.</li>
 *   <li>BF16 3e-2: 7 mantissa bits (2^-8 ≈ 3.9e-3 rounded, 7.8e-3 truncated), two per product: about 4e-3 to
 *       1.6e-2.</li>
 *   <li>dgemm 1e-12 at every precision: fp64 inputs with all 53 bits used, fp64 sums over k ≤ 64 terms give about
 *       √k·1.1e-16 ≈ 1e-15; a dgemm that went through fp32 anywhere (inputs, α/β or sums) is off by 1e-8 or more.</li>
 * </ul>
 */
public final class BlasParityChecks extends DeviceChecks {
    private static final float SENTINEL = 777.0f;
    private static final int PAIRS_SHOWN = 3;

    public BlasParityChecks(Blas blas, KernelLauncher launcher, long seed) {
        super(launcher, blas, seed);
    }

    public static double tolerance(Blas.GemmPrecision precision) {
        return switch (precision) {
            case FP32 -> 1e-5;
            case TF32 -> 5e-3;
            case BF16 -> 3e-2;
        };
    }

    /** dgemm's tolerance (fp64 whatever the instance's precision). */
    public static final double DGEMM_TOLERANCE = 1e-12;

    /** Each transpose combination, β ≠ 0 and β = 0 (NaN in C), single and strided-batched; dgemm TN and NT. */
    public List<ParityResult> all() {
        List<ParityResult> results = new ArrayList<>();
        results.add(check(false, false, 37, 29, 53, 3, 2, 5, 0.75f, -1.25f, 1, 0));
        results.add(check(true, false, 33, 17, 64, 1, 4, 3, 1.0f, 0.0f, 1, 0));
        results.add(check(false, true, 16, 41, 24, 7, 1, 2, -0.5f, 0.5f, 1, 0));
        results.add(check(true, true, 45, 12, 31, 2, 3, 4, 2.0f, 0.0f, 1, 0));
        results.add(check(true, false, 19, 23, 27, 2, 1, 3, 1.5f, 0.25f, 3, 11));
        results.add(check(false, true, 24, 20, 40, 0, 5, 1, 1.0f, 0.0f, 4, 7));
        // Shampoo's statistics: L ← GGᵀ + L is TN on row-major G (β = 1), R ← GᵀG is NT; α and β not fp32 values
        results.add(checkDouble(true, false, 29, 29, 43, 2, 3, 1, 1.0 / 3, 1.0));
        results.add(checkDouble(false, true, 21, 18, 57, 4, 1, 2, -0.7, 0.0));
        return results;
    }

    /**
     * One case. A is stored (transA ? k×m : m×k) with lda = rows + padA, likewise B; C is m×n with ldc = m + padC.
     * batch > 1 uses gemmStridedBatched with each stride = one matrix plus {@code gap} elements.
     */
    public ParityResult check(boolean transA, boolean transB, int m, int n, int k, int padA, int padB, int padC,
                              float alpha, float beta, int batch, int gap) {
        int rowsA = transA ? k : m, colsA = transA ? m : k;
        int rowsB = transB ? n : k, colsB = transB ? k : n;
        int lda = rowsA + padA, ldb = rowsB + padB, ldc = m + padC;
        long strideA = (long) lda * colsA + gap, strideB = (long) ldb * colsB + gap, strideC = (long) ldc * n + gap;
        boolean batched = batch > 1;
        float[] a = new float[(int) (strideA * batch)];
        float[] b = new float[(int) (strideB * batch)];
        float[] c = new float[(int) (strideC * batch)];
        for (int i = 0; i < a.length; i++) a[i] = uniform();
        for (int i = 0; i < b.length; i++) b[i] = uniform();
        java.util.Arrays.fill(c, SENTINEL);
        for (int q = 0; q < batch; q++) {
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < m; i++) c[(int) (q * strideC + i + (long) j * ldc)] = beta == 0 ? Float.NaN : uniform();
            }
        }
        DeviceBuffer da = launcher.upload(a), db = launcher.upload(b), dc = launcher.upload(c);
        if (batched) {
            blas.gemmStridedBatched(transA, transB, m, n, k, alpha, da.address(), lda, strideA, db.address(), ldb, strideB,
                    beta, dc.address(), ldc, strideC, batch);
        } else {
            blas.gemm(transA, transB, m, n, k, alpha, da.address(), lda, db.address(), ldb, beta, dc.address(), ldc);
        }
        launcher.synchronize();
        float[] got = launcher.readFloats(dc, c.length);
        free(da, db, dc);

        int blockSize = m * n * batch;
        double[] want = new double[blockSize], have = new double[blockSize];
        int[] index = new int[blockSize];
        String problem = null;
        int e = 0;
        for (int q = 0; q < batch; q++) {
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < m; i++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        double x = transA ? a[(int) (q * strideA + p + (long) i * lda)] : a[(int) (q * strideA + i + (long) p * lda)];
                        double y = transB ? b[(int) (q * strideB + j + (long) p * ldb)] : b[(int) (q * strideB + p + (long) j * ldb)];
                        sum += x * y;
                    }
                    int at = (int) (q * strideC + i + (long) j * ldc);
                    want[e] = alpha * sum + (beta == 0 ? 0 : (double) beta * c[at]);
                    have[e] = got[at];
                    index[e] = at;
                    if (problem == null && Double.isNaN(have[e])) {
                        problem = "NaN at C[" + at + "]" + (beta == 0 ? " (C was read although β = 0, or never written)" : "");
                    }
                    e++;
                }
            }
        }
        for (int at = 0; at < got.length && problem == null; at++) {
            int q = (int) (at / strideC), within = (int) (at % strideC);
            boolean inBlock = q < batch && within < (long) ldc * n && within % ldc < m;
            if (!inBlock && Float.floatToRawIntBits(got[at]) != Float.floatToRawIntBits(SENTINEL)) {
                problem = "wrote outside the m×n block at C[" + at + "] (" + got[at] + ")";
            }
        }
        boolean anyNonZero = false;
        for (double h : have) anyNonZero |= h != 0;
        if (problem == null && !anyNonZero) problem = "output is all zeros";
        double error = KernelParityChecks.normRelative(have, want);
        String op = (batched ? "gemm strided batched " : "gemm ") + (transA ? "T" : "N") + (transB ? "T" : "N")
                + (beta == 0 ? " β=0" : "");
        String shapes = String.format(Locale.ROOT, "m=%d n=%d k=%d ld=%d/%d/%d α=%s β=%s%s", m, n, k, lda, ldb, ldc, alpha,
                beta, batched ? " batch=" + batch + " gap=" + gap : "");
        return new ParityResult(op, shapes, blas.precision().name().toLowerCase(Locale.ROOT), error,
                tolerance(blas.precision()), "‖Δ‖/‖ref‖", problem, worstPairs(have, want, index));
    }

    /** One dgemm case, laid out as {@link #check} (no batches); C outside the block holds a sentinel, NaN inside when β = 0. */
    public ParityResult checkDouble(boolean transA, boolean transB, int m, int n, int k, int padA, int padB, int padC,
                                    double alpha, double beta) {
        int rowsA = transA ? k : m, colsA = transA ? m : k;
        int rowsB = transB ? n : k, colsB = transB ? k : n;
        int lda = rowsA + padA, ldb = rowsB + padB, ldc = m + padC;
        double[] a = new double[lda * colsA], b = new double[ldb * colsB], c = new double[ldc * n];
        for (int i = 0; i < a.length; i++) a[i] = 2 * random.nextDouble() - 1;
        for (int i = 0; i < b.length; i++) b[i] = 2 * random.nextDouble() - 1;
        java.util.Arrays.fill(c, SENTINEL);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) c[i + j * ldc] = beta == 0 ? Double.NaN : 2 * random.nextDouble() - 1;
        }
        DeviceBuffer da = launcher.allocate(8L * a.length, "dgemm A"), db = launcher.allocate(8L * b.length, "dgemm B"),
                dc = launcher.allocate(8L * c.length, "dgemm C");
        launcher.write(da, a);
        launcher.write(db, b);
        launcher.write(dc, c);
        blas.dgemm(transA, transB, m, n, k, alpha, da.address(), lda, db.address(), ldb, beta, dc.address(), ldc);
        launcher.synchronize();
        double[] got = launcher.readDoubles(dc, c.length);
        free(da, db, dc);

        double[] want = new double[m * n], have = new double[m * n];
        int[] index = new int[m * n];
        String problem = null;
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double x = transA ? a[p + i * lda] : a[i + p * lda];
                    double y = transB ? b[j + p * ldb] : b[p + j * ldb];
                    sum += x * y;
                }
                int at = i + j * ldc, e = i + j * m;
                want[e] = alpha * sum + (beta == 0 ? 0 : beta * c[at]);
                have[e] = got[at];
                index[e] = at;
                if (problem == null && Double.isNaN(have[e])) {
                    problem = "NaN at C[" + at + "]" + (beta == 0 ? " (C was read although β = 0, or never written)" : "");
                }
            }
        }
        for (int at = 0; at < got.length && problem == null; at++) {
            if (at % ldc >= m && Double.doubleToRawLongBits(got[at]) != Double.doubleToRawLongBits(SENTINEL)) {
                problem = "wrote outside the m×n block at C[" + at + "] (" + got[at] + ")";
            }
        }
        boolean anyNonZero = false;
        for (double h : have) anyNonZero |= h != 0;
        if (problem == null && !anyNonZero) problem = "output is all zeros";
        String op = "dgemm " + (transA ? "T" : "N") + (transB ? "T" : "N") + (beta == 0 ? " β=0" : "");
        String shapes = String.format(Locale.ROOT, "m=%d n=%d k=%d ld=%d/%d/%d α=%.4g β=%s", m, n, k, lda, ldb, ldc, alpha, beta);
        return new ParityResult(op, shapes, "fp64", KernelParityChecks.normRelative(have, want), DGEMM_TOLERANCE, "‖Δ‖/‖ref‖",
                problem, worstPairs(have, want, index));
    }

    private float uniform() {
        return (float) (2 * random.nextDouble() - 1);
    }

    /** Gives a check's buffers back at once (every launcher can now), so a long table does not pile them up. */
    private void free(DeviceBuffer... buffers) {
        for (DeviceBuffer b : buffers) launcher.free(b);
    }

    private static List<String> worstPairs(double[] have, double[] want, int[] index) {
        Integer[] order = new Integer[have.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Double.compare(gap(have, want, y), gap(have, want, x)));
        List<String> lines = new ArrayList<>();
        for (int r = 0; r < Math.min(PAIRS_SHOWN, order.length); r++) {
            int i = order[r];
            lines.add(String.format(Locale.ROOT, "C[%d] gemm %.9g, reference %.9g (|Δ| %.2e)", index[i], have[i], want[i],
                    Math.abs(have[i] - want[i])));
        }
        return lines;
    }

    private static double gap(double[] have, double[] want, int i) {
        double d = Math.abs(have[i] - want[i]);
        return Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
    }
}
