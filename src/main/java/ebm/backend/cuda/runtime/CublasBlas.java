package ebm.backend.cuda.runtime;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import ebm.backend.cuda.bindings.Cublas;
import ebm.backend.cuda.bindings.CudaLibraries;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@link Blas} on cuBLAS, on a {@link DriverLauncher}'s primary context and stream (so GEMMs are ordered with the
 * custom kernels and can be captured into the same graph). FP32 is cublasSgemm_v2 / cublasSgemmStridedBatched under
 * CUBLAS_DEFAULT_MATH (no TF32: since cuBLAS 11 the default math mode keeps sgemm in full fp32); TF32 and BF16 are
 * cublasGemmEx / cublasGemmStridedBatchedEx on fp32 matrices with compute type CUBLAS_COMPUTE_32F_FAST_TF32 /
 * CUBLAS_COMPUTE_32F_FAST_16BF (fp32 accumulation, inputs rounded by the tensor cores). dgemm is cublasDgemm_v2
 * at every precision.
 *
 * <p>The handle gets its own 32 MiB workspace allocated through the launcher (cublasSetWorkspace_v2, set after
 * cublasSetStream_v2, which resets it): under graph capture cuBLAS must not allocate, and the workspace then shows
 * in the launcher's memory accounting. α and β are passed in host pointer mode, so a captured graph bakes in their
 * values at capture. Not thread-safe: one instance per thread, like a cuBLAS handle.
 */
public final class CublasBlas implements Blas {
    public static final long WORKSPACE_BYTES = 32L << 20;

    private final DriverLauncher launcher;
    private final GemmPrecision precision;
    private final int computeType;
    private final Arena scalars = Arena.ofShared();
    private final MemorySegment alpha = scalars.allocate(JAVA_FLOAT);
    private final MemorySegment beta = scalars.allocate(JAVA_FLOAT);
    private final MemorySegment alphaDouble = scalars.allocate(JAVA_DOUBLE);
    private final MemorySegment betaDouble = scalars.allocate(JAVA_DOUBLE);
    private final MemorySegment handle;
    private final DeviceBuffer workspace;
    private final String version;
    private boolean closed;

    public CublasBlas(DriverLauncher launcher, GemmPrecision precision) {
        this.launcher = launcher;
        this.precision = precision;
        this.computeType = switch (precision) {
            case FP32 -> Cublas.CUBLAS_COMPUTE_32F;
            case TF32 -> Cublas.CUBLAS_COMPUTE_32F_FAST_TF32;
            case BF16 -> Cublas.CUBLAS_COMPUTE_32F_FAST_16BF;
        };
        launcher.makeCurrent();
        CudaLibraries.system().cublas().require();
        this.handle = Cublas.create();
        DeviceBuffer allocated = null;
        try {
            Cublas.setStream(handle, launcher.stream());
            allocated = launcher.allocate(WORKSPACE_BYTES, "cuBLAS workspace");
            Cublas.setWorkspace(handle, allocated.address(), allocated.bytes());
            Cublas.setMathMode(handle, Cublas.CUBLAS_DEFAULT_MATH);
            Cublas.setPointerMode(handle, Cublas.CUBLAS_POINTER_MODE_HOST);
            int v = Cublas.version(handle);
            this.version = v / 10000 + "." + v % 10000 / 100 + "." + v % 100;
        } catch (RuntimeException | Error e) {
            try {
                Cublas.destroy(handle);
                if (allocated != null) launcher.free(allocated);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            scalars.close();
            throw e;
        }
        this.workspace = allocated;
    }

    @Override
    public String description() {
        return "cuBLAS " + version + (precision == GemmPrecision.FP32 ? " (sgemm, fp32)"
                : " (gemmEx, " + (precision == GemmPrecision.TF32 ? "CUBLAS_COMPUTE_32F_FAST_TF32" : "CUBLAS_COMPUTE_32F_FAST_16BF") + ")");
    }

    @Override
    public GemmPrecision precision() {
        return precision;
    }

    private static int op(boolean transpose) {
        return transpose ? Cublas.CUBLAS_OP_T : Cublas.CUBLAS_OP_N;
    }

    private void prepare(float a, float b) {
        if (closed) throw new IllegalStateException("the cuBLAS handle is closed");
        launcher.makeCurrent();
        alpha.set(JAVA_FLOAT, 0, a);
        beta.set(JAVA_FLOAT, 0, b);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
                     float beta, long c, int ldc) {
        prepare(alpha, beta);
        if (precision == GemmPrecision.FP32) {
            Cublas.sgemm(handle, op(transA), op(transB), m, n, k, this.alpha, a, lda, b, ldb, this.beta, c, ldc);
        } else {
            Cublas.gemmEx(handle, op(transA), op(transB), m, n, k, this.alpha, a, lda, b, ldb, this.beta, c, ldc, computeType);
        }
    }

    @Override
    public void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, long a, int lda, long b, int ldb,
                      double beta, long c, int ldc) {
        if (closed) throw new IllegalStateException("the cuBLAS handle is closed");
        launcher.makeCurrent();
        alphaDouble.set(JAVA_DOUBLE, 0, alpha);
        betaDouble.set(JAVA_DOUBLE, 0, beta);
        Cublas.dgemm(handle, op(transA), op(transB), m, n, k, alphaDouble, a, lda, b, ldb, betaDouble, c, ldc);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                   long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC,
                                   int batchCount) {
        prepare(alpha, beta);
        if (precision == GemmPrecision.FP32) {
            Cublas.sgemmStridedBatched(handle, op(transA), op(transB), m, n, k, this.alpha, a, lda, strideA, b, ldb,
                    strideB, this.beta, c, ldc, strideC, batchCount);
        } else {
            Cublas.gemmStridedBatchedEx(handle, op(transA), op(transB), m, n, k, this.alpha, a, lda, strideA, b, ldb,
                    strideB, this.beta, c, ldc, strideC, batchCount, computeType);
        }
    }

    /** Destroys the handle (after the stream's queued work) and frees the workspace; close it before its launcher. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (launcher.isClosed()) {
            scalars.close();
            throw new IllegalStateException("the DriverLauncher was closed before its CublasBlas (close cuBLAS first)");
        }
        try {
            launcher.synchronize();
            Cublas.destroy(handle);
        } finally {
            try {
                launcher.free(workspace);
            } finally {
                scalars.close();
            }
        }
    }
}
