package ebm.backend.cuda.parity;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cuBLAS checks themselves, before they meet a GPU: a correct column-major GEMM over the host emulation's
 * memory passes every case, and GEMMs with the faults the checks exist for fail them.
 */
class BlasParityChecksTest {

    enum Fault { NONE, READS_C_WHEN_BETA_IS_ZERO, WRITES_PADDING, ROUNDS_LIKE_TF32, IGNORES_LDA }

    /** cuBLAS semantics in plain Java over native memory, with one deliberate fault. */
    record HostGemm(Blas.GemmPrecision precision, Fault fault) implements Blas {
        @Override
        public String description() {
            return "test GEMM with fault " + fault;
        }

        private static float at(long base, long index) {
            return MemorySegment.ofAddress(base + 4 * index).reinterpret(4).get(JAVA_FLOAT, 0);
        }

        private static void put(long base, long index, float value) {
            MemorySegment.ofAddress(base + 4 * index).reinterpret(4).set(JAVA_FLOAT, 0, value);
        }

        private float input(float x) {
            if (fault != Fault.ROUNDS_LIKE_TF32) return x;
            return Float.intBitsToFloat(Float.floatToRawIntBits(x) & 0xFFFFE000); // keep 10 mantissa bits
        }

        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
                         float beta, long c, int ldc) {
            if (fault == Fault.IGNORES_LDA) lda = transA ? k : m; // packed rows: stays inside A, wrong when lda > rows
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < m; i++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        float x = transA ? at(a, p + (long) i * lda) : at(a, i + (long) p * lda);
                        float y = transB ? at(b, j + (long) p * ldb) : at(b, p + (long) j * ldb);
                        sum += (double) input(x) * input(y);
                    }
                    long ci = i + (long) j * ldc;
                    boolean readC = beta != 0 || fault == Fault.READS_C_WHEN_BETA_IS_ZERO;
                    put(c, ci, (float) (alpha * sum + (readC ? (double) beta * at(c, ci) : 0)));
                }
                if (fault == Fault.WRITES_PADDING && ldc > m) put(c, m + (long) j * ldc, 0f);
            }
        }

        private static double atD(long base, long index) {
            return MemorySegment.ofAddress(base + 8 * index).reinterpret(8).get(JAVA_DOUBLE, 0);
        }

        private static void putD(long base, long index, double value) {
            MemorySegment.ofAddress(base + 8 * index).reinterpret(8).set(JAVA_DOUBLE, 0, value);
        }

        /** The same faults in fp64 (TF32 rounding of the inputs through fp32). */
        @Override
        public void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, long a, int lda, long b, int ldb,
                          double beta, long c, int ldc) {
            if (fault == Fault.IGNORES_LDA) lda = transA ? k : m;
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < m; i++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        double x = transA ? atD(a, p + (long) i * lda) : atD(a, i + (long) p * lda);
                        double y = transB ? atD(b, j + (long) p * ldb) : atD(b, p + (long) j * ldb);
                        if (fault == Fault.ROUNDS_LIKE_TF32) {
                            x = input((float) x);
                            y = input((float) y);
                        }
                        sum += x * y;
                    }
                    long ci = i + (long) j * ldc;
                    boolean readC = beta != 0 || fault == Fault.READS_C_WHEN_BETA_IS_ZERO;
                    putD(c, ci, alpha * sum + (readC ? beta * atD(c, ci) : 0));
                }
                if (fault == Fault.WRITES_PADDING && ldc > m) putD(c, m + (long) j * ldc, 0);
            }
        }

        @Override
        public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                       long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC,
                                       int batchCount) {
            for (int q = 0; q < batchCount; q++) {
                gemm(transA, transB, m, n, k, alpha, a + 4 * q * strideA, lda, b + 4 * q * strideB, ldb, beta, c + 4 * q * strideC, ldc);
            }
        }

        @Override
        public void close() {}
    }

    private static List<ParityResult> run(Blas.GemmPrecision precision, Fault fault) {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            List<ParityResult> results = new BlasParityChecks(new HostGemm(precision, fault), launcher, 11).all();
            for (ParityResult r : results) System.out.println(fault + ": " + r.summary());
            return results;
        }
    }

    @Test
    void aCorrectGemmPassesEveryCaseAtEveryPrecision() {
        for (Blas.GemmPrecision p : Blas.GemmPrecision.values()) {
            List<ParityResult> results = run(p, Fault.NONE);
            assertEquals(8, results.size());
            assertEquals(2, results.stream().filter(r -> r.op().startsWith("dgemm")).count());
            for (ParityResult r : results) HostBuild.report(r);
        }
    }

    @Test
    void readingCWhenBetaIsZeroFails() {
        List<ParityResult> results = run(Blas.GemmPrecision.FP32, Fault.READS_C_WHEN_BETA_IS_ZERO);
        for (ParityResult r : results) {
            boolean betaZero = r.op().contains("β=0");
            assertEquals(!betaZero, r.passed(), r.summary());
            if (betaZero) assertTrue(r.problem().contains("C was read although β = 0"), r.summary());
        }
    }

    @Test
    void writingOutsideTheBlockFails() {
        for (ParityResult r : run(Blas.GemmPrecision.FP32, Fault.WRITES_PADDING)) {
            assertFalse(r.passed(), r.summary());
            assertTrue(r.problem().startsWith("wrote outside the m×n block"), r.summary());
        }
    }

    @Test
    void tf32RoundingFailsTheFp32ToleranceButPassesTf32s() {
        for (ParityResult r : run(Blas.GemmPrecision.FP32, Fault.ROUNDS_LIKE_TF32)) {
            assertFalse(r.passed(), r.summary());
            assertTrue(r.worstError() > 1e-4 && r.worstError() < BlasParityChecks.tolerance(Blas.GemmPrecision.TF32), r.summary());
        }
        // dgemm is fp64 at every precision: TF32 operands fail it under a TF32 instance too
        for (ParityResult r : run(Blas.GemmPrecision.TF32, Fault.ROUNDS_LIKE_TF32)) {
            assertEquals(!r.op().startsWith("dgemm"), r.passed(), r.summary());
        }
    }

    @Test
    void anIgnoredLeadingDimensionFails() {
        for (ParityResult r : run(Blas.GemmPrecision.BF16, Fault.IGNORES_LDA)) {
            boolean packedA = r.shapes().contains("m=24 n=20 k=40"); // the one case with lda = rows (the dgemm rows pad A)
            assertEquals(packedA, r.passed(), r.summary());
        }
    }
}
