package ebm.backend.cuda.runtime;

import ebm.linalg.Gemm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link Blas} over the host emulation's "device" memory (native host addresses, see {@link HostEmulationLauncher}),
 * with cuBLAS's semantics: column-major, op(A)/op(B) by transA/transB, leading dimensions at least the row count of
 * the stored matrix (checked as cuBLAS does, before anything else, an IllegalArgumentException naming the argument
 * where cuBLAS returns CUBLAS_STATUS_INVALID_VALUE), β = 0 means C is not read, m = 0 or n = 0 does nothing, k = 0
 * (or α = 0) only scales C by β and reads neither A nor B.
 *
 * <p>How: each call copies the used part of A, B (and C when β ≠ 0) into fp64 arrays, once, and runs
 * {@link Gemm#gemm} (row-major fp64, packed and vectorised) on the row-major view of the column-major matrices,
 * Cᵀ = op(B)ᵀ op(A)ᵀ: a column-major X with leading dimension ld is the row-major Xᵀ with row stride ld, so the
 * call is Gemm(transB, transA, n, m, k, α, B, ldb, A, lda, β, C, ldc). Results are rounded to fp32 once per
 * element and written back column by column; padding between columns (ldc > m) is never touched. The result
 * depends only on the inputs (Gemm is bitwise reproducible), never on the thread count.
 *
 * <p>Precision, and how it differs from a GPU:
 * <ul>
 *   <li>FP32: every element of C is α·Σ a·b + β·c computed in fp64 and rounded to fp32 once, i.e. nearly the
 *       exactly rounded result. Real cuBLAS accumulates in fp32, in an order it does not specify (split-k,
 *       tiles, FMA), so its error grows with k (about k·2^-24 of Σ|a·b| in the worst case, √k typical); parity
 *       tolerances between the two must cover that, not only fp32's half ulp.</li>
 *   <li>TF32 (CUBLAS_COMPUTE_32F_FAST_TF32): each element of A and B is first rounded to TF32 (8-bit exponent,
 *       10 explicit mantissa bits) by round-to-nearest-even on the fp32 bit pattern ({@link #roundToTf32}); the
 *       products and sums are then exact-ish as for FP32. Tensor cores multiply TF32 operands exactly and add in
 *       fp32; how cuBLAS converts fp32 to TF32 is not documented (hardware that is handed raw fp32 ignores the low
 *       13 bits, i.e. truncates; PTX's cvt.rna rounds ties away from zero), so a GPU's operands may differ from
 *       these by one TF32 ulp (2^-11 relative) each: tolerances of about 1e-3 cover it.</li>
 *   <li>BF16 (CUBLAS_COMPUTE_32F_FAST_16BF): likewise with bfloat16 operands (7 mantissa bits, RNE,
 *       {@link #roundToBf16}); tolerance about 1e-2.</li>
 * </ul>
 * α, β and C are never rounded below fp32. {@link #dgemm} (cublasDgemm_v2) reads and writes fp64 matrices and runs the
 * same {@link Gemm} on them unrounded, whatever the precision: the host computes what a GPU's dgemm does up to the
 * order of its fp64 sums. Gemm counts every call's 2mnk FLOPs ({@link Gemm#flops}), sgemm's and dgemm's alike. One instance is meant for one thread at a time, like a cuBLAS handle
 * (calls are synchronized, as they reuse per-instance scratch arrays).
 */
public final class HostBlas implements Blas {

    /** The largest matrix the fp64 copies can hold (a Java array). */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 16;

    private final GemmPrecision precision;
    /** Scratch reused across calls: op inputs and C as fp64 (compact), one column of fp32. */
    private double[] aScratch = new double[0], bScratch = new double[0], cScratch = new double[0];
    private float[] column = new float[0];

    public HostBlas(GemmPrecision precision) {
        if (precision == null) throw new IllegalArgumentException("precision is null");
        this.precision = precision;
    }

    @Override
    public String description() {
        return "host GEMM emulating cuBLAS (" + precision + " operands, fp64 accumulation rounded to fp32 once)";
    }

    @Override
    public GemmPrecision precision() {
        return precision;
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
                     float beta, long c, int ldc) {
        validate("gemm", transA, transB, m, n, k, lda, ldb, ldc);
        run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 4);
    }

    @Override
    public void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, long a, int lda, long b, int ldb,
                      double beta, long c, int ldc) {
        validate("dgemm", transA, transB, m, n, k, lda, ldb, ldc);
        run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 8);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                   long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC,
                                   int batchCount) {
        validate("gemmStridedBatched", transA, transB, m, n, k, lda, ldb, ldc);
        if (batchCount < 0) throw invalid("gemmStridedBatched", "batchCount=" + batchCount + " < 0");
        for (int i = 0; i < batchCount; i++) {
            run(transA, transB, m, n, k, alpha, a + 4L * i * strideA, lda, b + 4L * i * strideB, ldb, beta,
                    c + 4L * i * strideC, ldc, 4);
        }
    }

    @Override
    public void close() {
        aScratch = bScratch = cScratch = new double[0];
        column = new float[0];
    }

    // ---- rounding of the operands ---------------------------------------------------------------------------------

    /**
     * x rounded to TF32 (10 explicit mantissa bits): round-to-nearest-even on the low 13 bits of the fp32 pattern;
     * subnormals round the same way, a value past the largest TF32 rounds to ±∞, ±∞ and NaN pass unchanged.
     */
    public static float roundToTf32(float x) {
        return roundMantissa(x, 13);
    }

    /** x rounded to bfloat16 (7 explicit mantissa bits), likewise on the low 16 bits. */
    public static float roundToBf16(float x) {
        return roundMantissa(x, 16);
    }

    private static float roundMantissa(float x, int droppedBits) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7F80_0000) == 0x7F80_0000) return x; // ±∞ stays, NaN stays NaN (its payload may be all low bits)
        int lsb = (bits >>> droppedBits) & 1;
        bits += (1 << (droppedBits - 1)) - 1 + lsb; // a tie rounds up only when that makes the kept lsb even
        bits &= -(1 << droppedBits);
        return Float.intBitsToFloat(bits);
    }

    private float operand(float x) {
        return switch (precision) {
            case FP32 -> x;
            case TF32 -> roundToTf32(x);
            case BF16 -> roundToBf16(x);
        };
    }

    // ---- the call -------------------------------------------------------------------------------------------------

    /** cuBLAS's argument checks (CUBLAS_STATUS_INVALID_VALUE), made before anything is read, also for empty sizes. */
    private static void validate(String call, boolean transA, boolean transB, int m, int n, int k, int lda, int ldb,
                                 int ldc) {
        if (m < 0) throw invalid(call, "m=" + m + " < 0");
        if (n < 0) throw invalid(call, "n=" + n + " < 0");
        if (k < 0) throw invalid(call, "k=" + k + " < 0");
        int rowsA = transA ? k : m, rowsB = transB ? n : k;
        if (lda < Math.max(1, rowsA)) {
            throw invalid(call, "lda=" + lda + " < max(1, " + (transA ? "k" : "m") + "=" + rowsA + "), the rows of the stored A");
        }
        if (ldb < Math.max(1, rowsB)) {
            throw invalid(call, "ldb=" + ldb + " < max(1, " + (transB ? "n" : "k") + "=" + rowsB + "), the rows of the stored B");
        }
        if (ldc < Math.max(1, m)) throw invalid(call, "ldc=" + ldc + " < max(1, m=" + m + "), the rows of C");
    }

    private static IllegalArgumentException invalid(String call, String what) {
        return new IllegalArgumentException("HostBlas." + call + ": " + what + " (cuBLAS: CUBLAS_STATUS_INVALID_VALUE)");
    }

    /**
     * One GEMM over column-major matrices of fp32 (elementBytes 4: operands rounded to the precision, C rounded to
     * fp32 once) or fp64 (elementBytes 8, dgemm: read and written as they are), through compact fp64 copies.
     */
    private synchronized void run(boolean transA, boolean transB, int m, int n, int k, double alpha, long a, int lda,
                                  long b, int ldb, double beta, long c, int ldc, int elementBytes) {
        if (m == 0 || n == 0) return;
        checkPointer("C", c, elementBytes);
        if ((long) m * n > MAX_ELEMENTS || (long) k * Math.max(m, n) > MAX_ELEMENTS) {
            throw new IllegalArgumentException("HostBlas: " + m + "x" + n + "x" + k + " is too large for the host GEMM's fp64 copies");
        }
        boolean fp64 = elementBytes == 8;
        boolean readOperands = k > 0 && alpha != 0;
        int rowsA = transA ? k : m, colsA = transA ? m : k;
        int rowsB = transB ? n : k, colsB = transB ? k : n;
        if (readOperands) {
            checkPointer("A", a, elementBytes);
            checkPointer("B", b, elementBytes);
            aScratch = fp64 ? loadDoubles(a, lda, rowsA, colsA, aScratch) : load(a, lda, rowsA, colsA, aScratch, true);
            bScratch = fp64 ? loadDoubles(b, ldb, rowsB, colsB, bScratch) : load(b, ldb, rowsB, colsB, bScratch, true);
        }
        if (beta != 0) {
            cScratch = fp64 ? loadDoubles(c, ldc, m, n, cScratch) : load(c, ldc, m, n, cScratch, false);
        } else {
            // β = 0: C is not read (NaN there must not propagate); Gemm overwrites what it is given.
            if (cScratch.length < m * n) cScratch = new double[m * n];
            java.util.Arrays.fill(cScratch, 0, m * n, 0.0);
        }
        if (readOperands) {
            // Row-major view: Cᵀ[n x m] = α op(B)ᵀ op(A)ᵀ + β Cᵀ over the compact copies (leading dimension = rows).
            Gemm.gemm(transB, transA, n, m, k, alpha, bScratch, 0, rowsB, aScratch, 0, rowsA, beta, cScratch, 0, m);
        } else if (beta != 0) {
            for (int i = 0; i < m * n; i++) cScratch[i] *= beta; // k = 0 or α = 0: C ← βC, A and B unread
        }
        if (fp64) {
            MemorySegment memory = MemorySegment.ofAddress(c).reinterpret(8L * ((long) (n - 1) * ldc + m));
            for (int j = 0; j < n; j++) MemorySegment.copy(cScratch, j * m, memory, ValueLayout.JAVA_DOUBLE, 8L * j * ldc, m);
        } else {
            store(cScratch, c, ldc, m, n);
        }
    }

    /** The stored rows x cols column-major fp64 matrix at address (leading dimension ld), compact, column after column. */
    private static double[] loadDoubles(long address, int ld, int rows, int cols, double[] scratch) {
        int count = rows * cols;
        double[] out = scratch.length >= count ? scratch : new double[count];
        MemorySegment memory = MemorySegment.ofAddress(address).reinterpret(8L * ((long) (cols - 1) * ld + rows));
        for (int j = 0; j < cols; j++) MemorySegment.copy(memory, ValueLayout.JAVA_DOUBLE, 8L * j * ld, out, j * rows, rows);
        return out;
    }

    private static void checkPointer(String name, long address, int alignment) {
        if (address == 0) throw new IllegalArgumentException("HostBlas: " + name + " is a null device pointer");
        if ((address & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("HostBlas: " + name + " = 0x" + Long.toHexString(address) + " is not " + alignment + "-byte aligned");
        }
    }

    /** The stored rows x cols column-major matrix at address (leading dimension ld) as compact fp64, column after column. */
    private double[] load(long address, int ld, int rows, int cols, double[] scratch, boolean operandRounding) {
        int count = rows * cols;
        double[] out = scratch.length >= count ? scratch : new double[count];
        if (column.length < rows) column = new float[rows];
        MemorySegment memory = MemorySegment.ofAddress(address).reinterpret(4L * ((long) (cols - 1) * ld + rows));
        for (int j = 0; j < cols; j++) {
            MemorySegment.copy(memory, ValueLayout.JAVA_FLOAT, 4L * j * ld, column, 0, rows);
            int base = j * rows;
            if (operandRounding && precision != GemmPrecision.FP32) {
                for (int i = 0; i < rows; i++) out[base + i] = operand(column[i]);
            } else {
                for (int i = 0; i < rows; i++) out[base + i] = column[i];
            }
        }
        return out;
    }

    /** Writes the compact m x n result, rounded to fp32, into the first m entries of each column of C. */
    private void store(double[] values, long c, int ldc, int m, int n) {
        if (column.length < m) column = new float[m];
        MemorySegment memory = MemorySegment.ofAddress(c).reinterpret(4L * ((long) (n - 1) * ldc + m));
        for (int j = 0; j < n; j++) {
            int base = j * m;
            for (int i = 0; i < m; i++) column[i] = (float) values[base + i];
            MemorySegment.copy(column, 0, memory, ValueLayout.JAVA_FLOAT, 4L * j * ldc, m);
        }
    }
}
