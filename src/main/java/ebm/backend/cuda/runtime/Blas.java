package ebm.backend.cuda.runtime;


/**
 * The GEMMs of the GPU backend with cuBLAS's semantics: column-major, fp32 in and out, leading dimensions,
 * op(A) = A or Aᵀ, C ← α·op(A)·op(B) + β·C where C is not read when β = 0 (so NaN there does not propagate).
 * Pointers are device addresses ({@link DeviceBuffer#address()} plus a byte offset). Implemented by cuBLAS on a
 * GPU ({@code CublasBlas}) and by a host GEMM over the emulated device memory ({@code HostBlas}), so every call
 * pattern (transposes, leading dimensions, α/β folding, batching) is checked in CI.
 *
 * <p>The precision is chosen once per instance: {@link GemmPrecision#FP32} is plain sgemm; TF32 and BF16 keep fp32
 * storage and let the multiply round its inputs (cublasGemmEx with CUBLAS_COMPUTE_32F_FAST_TF32 / _FAST_16BF).
 * {@link #dgemm} is fp64 throughout whatever the precision (cublasDgemm_v2): for what fp32 cannot carry, such as
 * Shampoo's statistics, whose condition numbers are squares.
 */
public interface Blas extends AutoCloseable {

    enum GemmPrecision { FP32, TF32, BF16 }

    /** What runs the GEMMs, for reports ("cuBLAS 13.0.0", "host GEMM emulating cuBLAS"). */
    String description();

    GemmPrecision precision();

    /** C[m x n] ← α op(A)[m x k] op(B)[k x n] + β C, column-major with leading dimensions lda, ldb, ldc. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
              float beta, long c, int ldc);

    /** batchCount independent gemms; matrix i starts at a + i·strideA elements (likewise b, c). */
    void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                            long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC,
                            int batchCount);

    /**
     * The fp64 gemm (cublasDgemm_v2): C[m x n] ← α op(A)[m x k] op(B)[k x n] + β C over fp64 matrices, with the
     * same semantics as {@link #gemm} (β = 0 does not read C); the instance's precision does not apply.
     */
    void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, long a, int lda, long b, int ldb,
               double beta, long c, int ldc);

    @Override
    void close();
}
