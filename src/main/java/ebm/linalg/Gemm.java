package ebm.linalg;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one dense matrix multiply the CPU backend runs its heavy lifting through (row-major, fp64):
 * C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T, C of shape [m x n], op(A) [m x k], op(B) [k x n].
 * Element (i, p) of op(A) is a[aOff + i*lda + p], or a[aOff + p*lda + i] when transA. With beta == 0, C is
 * overwritten (its old contents, NaN included, are ignored), as in BLAS.
 * Results are bitwise the same whatever the number of threads (each element is summed in one fixed order).
 * <p>
 * How it is fast (the usual GotoBLAS/BLIS layout): op(B) is copied ("packed") in blocks of KC x NC into
 * column strips NR wide, op(A) in blocks of MC x KC into row strips MR tall, so the transposes cost nothing in
 * the inner loop and every load there is contiguous. A register-blocked micro-kernel (MR rows x 2 vectors,
 * fused multiply-add) then computes each MR x NR tile of C from one A strip (L2-resident block) and one B strip
 * (L1-resident). Threads take disjoint blocks of rows (or columns, when there are too few rows) of C and never
 * split the k-sum; the k blocking does not depend on the thread count, so every element of C sees the same
 * sequence of operations however the work is divided.
 */
public final class Gemm {
    private Gemm() {}

    private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** Tile width: two vectors. */
    static final int NR = 2 * LANES;
    /**
     * Tile height. 4 rows x 2 vectors = 8 accumulators keep both FMA pipes busy; an 8-row kernel measured far
     * slower here (the JIT spilled its 16 accumulators).
     */
    static final int MR = 4;
    /** Rows of the source matrix packed together before moving to the next strip (see packA, packB). */
    private static final int PACK_CHUNK = 8;
    /** One packed A step (MR = 4 values) as a vector, for the transposed-A copy. */
    private static final VectorSpecies<Double> MR_SPECIES = DoubleVector.SPECIES_256;
    /** Depth of one packed block: a B strip (KC x NR) plus an A strip (MR x KC) stay within L1 (48 KiB here). */
    private static final int KC = 256;
    /** Rows of one packed A block: MC x KC doubles (~512 KiB) stays within half the per-core L2. */
    private static final int MC = 256;
    /** Columns of one packed B block: KC x NC doubles (~2 MiB) stays within a share of L3. */
    private static final int NC = 1024;
    /**
     * Below this many flops a call runs inline on one thread: waking a pool thread costs ~50 us here, and
     * measured 2-thread calls lost at 8e6 flops (256x128x128) and won at 3.4e7 (512x256x128).
     */
    private static final long PARALLEL_MIN_FLOPS = 20_000_000;

    /** Per-thread packing buffers, grown on demand and kept, so repeated calls do not allocate. */
    private static final ThreadLocal<double[][]> PACK_BUFFERS = ThreadLocal.withInitial(() -> new double[2][0]);

    /** Threads a call may use: system property {@code ebm.threads}, else the processor count (see {@link CpuThreads}). */
    public static int threads() {
        return CpuThreads.threads();
    }

    /** Runs {@code body} with {@link #threads()} forced to {@code count} on the calling thread (tests, sweeps). */
    public static void withThreads(int count, Runnable body) {
        CpuThreads.withThreads(count, body);
    }

    /** 2mnk of every call so far: the benchmarks' FLOP count of a step. */
    private static final java.util.concurrent.atomic.LongAdder FLOPS = new java.util.concurrent.atomic.LongAdder();

    public static long flops() {
        return FLOPS.sum();
    }

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                            double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                            double beta, double[] c, int cOff, int ldc) {
        FLOPS.add(2L * m * n * k);
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("negative size: m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        if (ldc < n) throw new IllegalArgumentException("ldc=" + ldc + " < n=" + n);
        if (k == 0 || alpha == 0) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        if (lda < (transA ? m : k)) throw new IllegalArgumentException("lda=" + lda + " too small");
        if (ldb < (transB ? k : n)) throw new IllegalArgumentException("ldb=" + ldb + " too small");
        if (n < THIN || k < THIN || m < MR) {
            thin(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }

        Job job = new Job(transA, transB, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        long flops = 2L * m * n * k;
        int threads = flops < PARALLEL_MIN_FLOPS ? 1 : threads();
        int rowTiles = (m + MR - 1) / MR;
        int colTiles = (n + NR - 1) / NR;
        if (threads <= 1 || (rowTiles < 2 && colTiles < 2)) {
            job.run(0, m, 0, n);
        } else if (rowTiles >= 2 * threads || rowTiles >= colTiles) {
            // Rows: each thread gets a contiguous band of whole tiles, so B is reused over as many rows as possible.
            int parts = Math.min(threads, rowTiles);
            CpuThreads.parallelFor(parts, t -> {
                int i0 = Math.min(m, (int) ((long) rowTiles * t / parts) * MR);
                int i1 = Math.min(m, (int) ((long) rowTiles * (t + 1) / parts) * MR);
                job.run(i0, i1, 0, n);
            });
        } else {
            // Few rows, many columns (e.g. m = 4): split columns instead; still one thread per element of C.
            int parts = Math.min(threads, colTiles);
            CpuThreads.parallelFor(parts, t -> {
                int j0 = Math.min(n, (int) ((long) colTiles * t / parts) * NR);
                int j1 = Math.min(n, (int) ((long) colTiles * (t + 1) / parts) * NR);
                job.run(0, m, j0, j1);
            });
        }
    }

    /** C = beta * C (beta == 0 writes zeros, ignoring NaN in C). */
    private static void scaleC(int m, int n, double beta, double[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0) {
                java.util.Arrays.fill(c, row, row + n, 0.0);
            } else if (beta != 1) {
                for (int j = 0; j < n; j++) c[row + j] *= beta;
            }
        }
    }

    /** The operands of one call; {@link #run} computes one rectangle of C with the caller's own packing buffers. */
    private record Job(boolean transA, boolean transB, int k, double alpha,
                       double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                       double beta, double[] c, int cOff, int ldc) {

        void run(int i0, int i1, int j0, int j1) {
            int kBlocks = (k + KC - 1) / KC;
            // Equal k blocks (e.g. 2 x 150 rather than 256 + 44); depends on k only, never on the split.
            int kc = (k + kBlocks - 1) / kBlocks;
            int ncMax = Math.min(NC, roundUp(j1 - j0, NR));
            int mcMax = Math.min(MC, roundUp(i1 - i0, MR));
            double[][] buffers = PACK_BUFFERS.get();
            if (buffers[0].length < mcMax * kc) buffers[0] = new double[mcMax * kc];
            if (buffers[1].length < ncMax * kc) buffers[1] = new double[ncMax * kc];
            double[] packedA = buffers[0];
            double[] packedB = buffers[1];

            for (int jc = j0; jc < j1; jc += NC) {
                int nb = Math.min(NC, j1 - jc);
                for (int pc = 0; pc < k; pc += kc) {
                    int kb = Math.min(kc, k - pc);
                    // The first k block applies beta; later ones accumulate onto what the earlier ones wrote.
                    double blockBeta = pc == 0 ? beta : 1.0;
                    packB(transB, b, bOff, ldb, pc, kb, jc, nb, packedB);
                    for (int ic = i0; ic < i1; ic += MC) {
                        int mb = Math.min(MC, i1 - ic);
                        packA(transA, a, aOff, lda, ic, mb, pc, kb, packedA);
                        for (int jr = 0; jr < nb; jr += NR) {
                            int cols = Math.min(NR, nb - jr);
                            int bStrip = jr * kb;
                            for (int ir = 0; ir < mb; ir += MR) {
                                int rows = Math.min(MR, mb - ir);
                                int cIdx = cOff + (ic + ir) * ldc + jc + jr;
                                kernel(kb, packedA, ir * kb, packedB, bStrip, c, cIdx, ldc, rows, cols, alpha, blockBeta);
                            }
                        }
                    }
                }
            }
        }
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    /**
     * Copies op(A)[ic .. ic+mb, pc .. pc+kb] into strips of MR rows: strip s holds, for each p, the MR values
     * of rows s*MR .. s*MR+MR-1 side by side (rows past mb are zero), which is the order the kernel reads them.
     */
    private static void packA(boolean transA, double[] a, int aOff, int lda, int ic, int mb, int pc, int kb,
                              double[] packed) {
        int fullRows = mb / MR * MR;
        if (transA) {
            // op(A)(i, p) = a[p*lda + i]: the MR values for one p are contiguous in a. A few rows of a at a time
            // are dealt out to all strips: rows are read front to back, and each strip gets a contiguous run
            // (one p at a time across strips would write to addresses 8 KiB apart, which thrash the L1 sets).
            for (int p0 = 0; p0 < kb; p0 += PACK_CHUNK) {
                int p1 = Math.min(kb, p0 + PACK_CHUNK);
                for (int ir = 0; ir < fullRows; ir += MR) {
                    int src = aOff + (pc + p0) * lda + ic + ir;
                    int dst = ir * kb + p0 * MR;
                    for (int p = p0; p < p1; p++, src += lda, dst += MR) {
                        DoubleVector.fromArray(MR_SPECIES, a, src).intoArray(packed, dst);
                    }
                }
                if (fullRows < mb) {
                    int rows = mb - fullRows;
                    int src = aOff + (pc + p0) * lda + ic + fullRows;
                    int dst = fullRows * kb + p0 * MR;
                    for (int p = p0; p < p1; p++, src += lda, dst += MR) {
                        for (int r = 0; r < rows; r++) packed[dst + r] = a[src + r];
                        for (int r = rows; r < MR; r++) packed[dst + r] = 0;
                    }
                }
            }
        } else {
            // op(A)(i, p) = a[i*lda + p]: read each row of a front to back (consecutive rows are usually adjacent
            // in memory, so this is one long stream), placing its values MR apart in the strip.
            for (int ir = 0; ir < mb; ir += MR) {
                int rows = Math.min(MR, mb - ir);
                int strip = ir * kb;
                for (int r = 0; r < rows; r++) {
                    int src = aOff + (ic + ir + r) * lda + pc;
                    for (int p = 0; p < kb; p++) packed[strip + p * MR + r] = a[src + p];
                }
                for (int r = rows; r < MR; r++) {
                    for (int p = 0; p < kb; p++) packed[strip + p * MR + r] = 0;
                }
            }
        }
    }

    /**
     * Copies op(B)[pc .. pc+kb, jc .. jc+nb] into strips of NR columns: strip s holds, for each p, the NR values
     * of columns s*NR .. s*NR+NR-1 side by side (columns past nb are zero).
     */
    private static void packB(boolean transB, double[] b, int bOff, int ldb, int pc, int kb, int jc, int nb,
                              double[] packed) {
        int fullCols = nb / NR * NR;
        if (!transB) {
            // op(B)(p, j) = b[p*ldb + j]: each p's NR values are one contiguous run of b. As for A, a few rows of b
            // at a time are dealt out to all strips, so reads stream and writes stay contiguous per strip.
            for (int p0 = 0; p0 < kb; p0 += PACK_CHUNK) {
                int p1 = Math.min(kb, p0 + PACK_CHUNK);
                for (int jr = 0; jr < fullCols; jr += NR) {
                    int src = bOff + (pc + p0) * ldb + jc + jr;
                    int dst = jr * kb + p0 * NR;
                    for (int p = p0; p < p1; p++, src += ldb, dst += NR) {
                        DoubleVector.fromArray(SPECIES, b, src).intoArray(packed, dst);
                        DoubleVector.fromArray(SPECIES, b, src + LANES).intoArray(packed, dst + LANES);
                    }
                }
                if (fullCols < nb) {
                    int cols = nb - fullCols;
                    int src = bOff + (pc + p0) * ldb + jc + fullCols;
                    int dst = fullCols * kb + p0 * NR;
                    for (int p = p0; p < p1; p++, src += ldb, dst += NR) {
                        for (int j = 0; j < cols; j++) packed[dst + j] = b[src + j];
                        for (int j = cols; j < NR; j++) packed[dst + j] = 0;
                    }
                }
            }
        } else {
            // op(B)(p, j) = b[j*ldb + p]: a transposing copy. Plain loads, row by row of b: vector gathers fall back
            // to per-element Java code on some JITs and were the slowest part of every X·Wᵀ here.
            for (int jr = 0; jr < nb; jr += NR) {
                int cols = Math.min(NR, nb - jr);
                int dst = jr * kb;
                for (int j = 0; j < cols; j++) {
                    int src = bOff + (jc + jr + j) * ldb + pc;
                    for (int p = 0; p < kb; p++) packed[dst + p * NR + j] = b[src + p];
                }
                for (int j = cols; j < NR; j++) {
                    for (int p = 0; p < kb; p++) packed[dst + p * NR + j] = 0;
                }
            }
        }
    }

    /**
     * One MR x NR tile: 8 vector accumulators stay in registers over the whole k block; each step loads one
     * packed B row (2 vectors) and broadcasts MR packed A values. rows/cols say how much of the tile lies in C.
     */
    private static void kernel(int kb, double[] pa, int aIdx, double[] pb, int bIdx, double[] c, int cIdx, int ldc,
                                int rows, int cols, double alpha, double beta) {
        DoubleVector c00 = DoubleVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00;
        for (int p = 0; p < kb; p++) {
            int bp = bIdx + p * NR;
            int ap = aIdx + p * 4;
            DoubleVector b0 = DoubleVector.fromArray(SPECIES, pb, bp);
            DoubleVector b1 = DoubleVector.fromArray(SPECIES, pb, bp + LANES);
            DoubleVector av = DoubleVector.broadcast(SPECIES, pa[ap]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = DoubleVector.broadcast(SPECIES, pa[ap + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = DoubleVector.broadcast(SPECIES, pa[ap + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = DoubleVector.broadcast(SPECIES, pa[ap + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
        }
        // Stores stay inside this method and use no masks: a store helper ran in C1-compiled code that does not
        // intrinsify the Vector API, and masked edge stores made recompiled kernels fall back the same way
        // (seen in profiles as VectorSupport frames, 5-10x slower steps). Edge tiles go through a small scratch tile.
        if (rows == MR && cols == NR) {
            if (beta == 0) {
                c00.mul(alpha).intoArray(c, cIdx);
                c01.mul(alpha).intoArray(c, cIdx + LANES);
                c10.mul(alpha).intoArray(c, cIdx + ldc);
                c11.mul(alpha).intoArray(c, cIdx + ldc + LANES);
                c20.mul(alpha).intoArray(c, cIdx + 2 * ldc);
                c21.mul(alpha).intoArray(c, cIdx + 2 * ldc + LANES);
                c30.mul(alpha).intoArray(c, cIdx + 3 * ldc);
                c31.mul(alpha).intoArray(c, cIdx + 3 * ldc + LANES);
            } else {
                DoubleVector bv = DoubleVector.broadcast(SPECIES, beta);
                int r1 = cIdx + ldc, r2 = cIdx + 2 * ldc, r3 = cIdx + 3 * ldc;
                DoubleVector.fromArray(SPECIES, c, cIdx).fma(bv, c00.mul(alpha)).intoArray(c, cIdx);
                DoubleVector.fromArray(SPECIES, c, cIdx + LANES).fma(bv, c01.mul(alpha)).intoArray(c, cIdx + LANES);
                DoubleVector.fromArray(SPECIES, c, r1).fma(bv, c10.mul(alpha)).intoArray(c, r1);
                DoubleVector.fromArray(SPECIES, c, r1 + LANES).fma(bv, c11.mul(alpha)).intoArray(c, r1 + LANES);
                DoubleVector.fromArray(SPECIES, c, r2).fma(bv, c20.mul(alpha)).intoArray(c, r2);
                DoubleVector.fromArray(SPECIES, c, r2 + LANES).fma(bv, c21.mul(alpha)).intoArray(c, r2 + LANES);
                DoubleVector.fromArray(SPECIES, c, r3).fma(bv, c30.mul(alpha)).intoArray(c, r3);
                DoubleVector.fromArray(SPECIES, c, r3 + LANES).fma(bv, c31.mul(alpha)).intoArray(c, r3 + LANES);
            }
            return;
        }
        double[] tile = new double[MR * NR];
        c00.intoArray(tile, 0);
        c01.intoArray(tile, LANES);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + LANES);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + LANES);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + LANES);
        for (int i = 0; i < rows; i++) {
            int row = cIdx + i * ldc;
            for (int j = 0; j < cols; j++) {
                double v = alpha * tile[i * NR + j];
                c[row + j] = beta == 0 ? v : v + beta * c[row + j];
            }
        }
    }

    /** Below this n or k the packed kernel would mostly work on padding (an output vector, an outer product). */
    private static final int THIN = 8;

    /**
     * Thin products (matrix-vector, outer products, a row times a matrix) by direct loops in the order that reads
     * memory contiguously: dot products along k when op(B) is transposed, row updates along n otherwise.
     */
    private static void thin(boolean transA, boolean transB, int m, int n, int k, double alpha,
                             double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                             double beta, double[] c, int cOff, int ldc) {
        scaleC(m, n, beta, c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            int ci = cOff + i * ldc;
            if (transB) {
                for (int j = 0; j < n; j++) {
                    int bj = bOff + j * ldb;
                    double sum = 0;
                    if (transA) {
                        for (int p = 0; p < k; p++) sum += a[aOff + p * lda + i] * b[bj + p];
                    } else {
                        int ai = aOff + i * lda;
                        for (int p = 0; p < k; p++) sum += a[ai + p] * b[bj + p];
                    }
                    c[ci + j] += alpha * sum;
                }
            } else {
                for (int p = 0; p < k; p++) {
                    double av = alpha * (transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
                    int bp = bOff + p * ldb;
                    for (int j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
                }
            }
        }
    }

    /** Plain triple loop: the reference the fast routine is tested against. */
    public static void naive(boolean transA, boolean transB, int m, int n, int k, double alpha,
                             double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                             double beta, double[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += av * bv;
                }
                int idx = cOff + i * ldc + j;
                c[idx] = beta == 0 ? alpha * sum : alpha * sum + beta * c[idx];
            }
        }
    }
}
