package ebm.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Placeholder naive column-major fp32 GEMM over emulated device memory (replaced by the tested HostBlas). */
public final class HostBlas implements Blas {
    public HostBlas(GemmPrecision precision) {}

    @Override public String description() { return "naive"; }
    @Override public GemmPrecision precision() { return GemmPrecision.FP32; }

    private static MemorySegment at(long address) {
        return MemorySegment.ofAddress(address).reinterpret(Long.MAX_VALUE);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
                     float beta, long c, int ldc) {
        MemorySegment A = at(a), B = at(b), C = at(c);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? A.getAtIndex(ValueLayout.JAVA_FLOAT, i * (long) lda + p) : A.getAtIndex(ValueLayout.JAVA_FLOAT, p * (long) lda + i);
                    float bv = transB ? B.getAtIndex(ValueLayout.JAVA_FLOAT, p * (long) ldb + j) : B.getAtIndex(ValueLayout.JAVA_FLOAT, j * (long) ldb + p);
                    s += (double) av * bv;
                }
                long ci = j * (long) ldc + i;
                float old = beta == 0 ? 0 : C.getAtIndex(ValueLayout.JAVA_FLOAT, ci);
                C.setAtIndex(ValueLayout.JAVA_FLOAT, ci, (float) (alpha * s + beta * old));
            }
        }
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                                   long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batchCount) {
        for (int i = 0; i < batchCount; i++) {
            gemm(transA, transB, m, n, k, alpha, a + 4 * i * strideA, lda, b + 4 * i * strideB, ldb, beta, c + 4 * i * strideC, ldc);
        }
    }

    @Override public void close() {}
}
