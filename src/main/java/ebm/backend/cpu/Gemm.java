package ebm.backend.cpu;

/**
 * The one dense matrix multiply the CPU backend runs its heavy lifting through (row-major, fp64):
 * C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T, C of shape [m x n], op(A) [m x k], op(B) [k x n].
 * Element (i, p) of op(A) is a[aOff + i*lda + p], or a[aOff + p*lda + i] when transA. With beta == 0, C is
 * overwritten (its old contents, NaN included, are ignored), as in BLAS.
 * Results are bitwise the same whatever the number of threads (each element is summed in one fixed order).
 */
public final class Gemm {
    private Gemm() {}

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                            double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                            double beta, double[] c, int cOff, int ldc) {
        naive(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
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
