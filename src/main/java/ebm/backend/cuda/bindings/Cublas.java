package ebm.backend.cuda.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Map;

/**
 * cuBLAS (libcublas.so.13) through FFM downcalls, the few entry points the GPU backend uses. Types follow
 * cublas_api.h: cublasStatus_t and every enum (cublasOperation_t, cublasMath_t, cublasComputeType_t, cudaDataType,
 * cublasGemmAlgo_t) are JAVA_INT; {@code long long} strides and size_t are JAVA_LONG; the handle, streams, scalars
 * and matrices are ADDRESS (device matrices as {@code MemorySegment.ofAddress(deviceAddress)}). Scalars are passed in
 * host pointer mode (alpha, beta in native host slots). Bound lazily like {@link CudaDriver}; a machine without
 * cuBLAS gets handles that throw the library search's message.
 */
public final class Cublas {
    static final int CUBLAS_STATUS_SUCCESS = 0;
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    public static final int CUBLAS_POINTER_MODE_HOST = 0;
    public static final int CUBLAS_DEFAULT_MATH = 0;
    /** cublasComputeType_t: fp32 accumulation; inputs may be rounded to TF32 / bf16 by the tensor cores. */
    public static final int CUBLAS_COMPUTE_32F = 68;
    public static final int CUBLAS_COMPUTE_32F_FAST_16BF = 75;
    public static final int CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
    /** cudaDataType (library_types.h): CUDA_R_32F = 0. */
    static final int CUDA_R_32F = 0;
    static final int CUBLAS_GEMM_DEFAULT = -1;
    /** libraryPropertyType (library_types.h). */
    static final int MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2;

    /** cublasStatus_t names and meanings, from cublas_api.h's values. */
    static final Map<Integer, String[]> STATUS = Map.of(
            0, new String[] {"CUBLAS_STATUS_SUCCESS", "success"},
            1, new String[] {"CUBLAS_STATUS_NOT_INITIALIZED", "cuBLAS was not initialised: no usable GPU context, or the handle was destroyed"},
            3, new String[] {"CUBLAS_STATUS_ALLOC_FAILED", "cuBLAS could not allocate device or host memory"},
            7, new String[] {"CUBLAS_STATUS_INVALID_VALUE", "an argument is out of range (sizes, leading dimensions, strides, enum values)"},
            8, new String[] {"CUBLAS_STATUS_ARCH_MISMATCH", "the GPU lacks a feature this call needs"},
            11, new String[] {"CUBLAS_STATUS_MAPPING_ERROR", "accessing GPU memory failed"},
            13, new String[] {"CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to run"},
            14, new String[] {"CUBLAS_STATUS_INTERNAL_ERROR", "an internal cuBLAS operation failed"},
            15, new String[] {"CUBLAS_STATUS_NOT_SUPPORTED", "this combination of parameters is not supported"},
            16, new String[] {"CUBLAS_STATUS_LICENSE_ERROR", "a licensing error"});

    private Cublas() {}

    private static final class Api {
        private static MethodHandle bind(String symbol, MemoryLayout... args) {
            return NativeBindings.bind(CudaLibraries.system().cublas(), symbol, FunctionDescriptor.of(JAVA_INT, args));
        }

        private static final MemoryLayout I = JAVA_INT, L = JAVA_LONG, P = ADDRESS;

        static final MethodHandle cublasCreate = bind("cublasCreate_v2", P);
        static final MethodHandle cublasDestroy = bind("cublasDestroy_v2", P);
        static final MethodHandle cublasGetVersion = bind("cublasGetVersion_v2", P, P);
        static final MethodHandle cublasGetProperty = bind("cublasGetProperty", I, P);
        static final MethodHandle cublasSetStream = bind("cublasSetStream_v2", P, P);
        static final MethodHandle cublasSetWorkspace = bind("cublasSetWorkspace_v2", P, P, L);
        static final MethodHandle cublasSetMathMode = bind("cublasSetMathMode", P, I);
        static final MethodHandle cublasSetPointerMode = bind("cublasSetPointerMode_v2", P, I);
        static final MethodHandle cublasSgemm = bind("cublasSgemm_v2", P, I, I, I, I, I, P, P, I, P, I, P, P, I);
        static final MethodHandle cublasDgemm = bind("cublasDgemm_v2", P, I, I, I, I, I, P, P, I, P, I, P, P, I);
        static final MethodHandle cublasSgemmStridedBatched = bind("cublasSgemmStridedBatched",
                P, I, I, I, I, I, P, P, I, L, P, I, L, P, P, I, L, I);
        static final MethodHandle cublasGemmEx = bind("cublasGemmEx",
                P, I, I, I, I, I, P, P, I, I, P, I, I, P, P, I, I, I, I);
        static final MethodHandle cublasGemmStridedBatchedEx = bind("cublasGemmStridedBatchedEx",
                P, I, I, I, I, I, P, P, I, I, L, P, I, I, L, P, P, I, I, L, I, I, I);
    }

    /** "CUBLAS_STATUS_INVALID_VALUE", or "cublasStatus_t N" for a value cublas_api.h does not list. */
    static String statusName(int status) {
        String[] entry = STATUS.get(status);
        return entry != null ? entry[0] : "cublasStatus_t " + status;
    }

    static CudaException failure(int status, String call) {
        String[] entry = STATUS.get(status);
        return new CudaException(call, status, statusName(status), entry != null ? entry[1] : null);
    }

    /** The library's version from cublasGetProperty, which needs no GPU: "13.0.2". */
    public static String libraryVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int[] parts = new int[3];
            for (int p = 0; p < 3; p++) {
                int r = (int) Api.cublasGetProperty.invokeExact(p, out);
                if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, "cublasGetProperty(" + p + ")");
                parts[p] = out.get(JAVA_INT, 0);
            }
            return parts[MAJOR_VERSION] + "." + parts[MINOR_VERSION] + "." + parts[PATCH_LEVEL];
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static MemorySegment create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cublasCreate.invokeExact(out);
            if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, "cublasCreate_v2");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void destroy(MemorySegment handle) {
        int r;
        try {
            r = (int) Api.cublasDestroy.invokeExact(handle);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, "cublasDestroy_v2");
    }

    /** CUBLAS_VERSION of the loaded library through a handle: major·10000 + minor·100 + patch. */
    public static int version(MemorySegment handle) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int r = (int) Api.cublasGetVersion.invokeExact(handle, out);
            if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, "cublasGetVersion_v2");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void setStream(MemorySegment handle, MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cublasSetStream.invokeExact(handle, stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, "cublasSetStream_v2");
    }

    public static void setWorkspace(MemorySegment handle, long workspace, long bytes) {
        int r;
        try {
            r = (int) Api.cublasSetWorkspace.invokeExact(handle, MemorySegment.ofAddress(workspace), bytes);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, "cublasSetWorkspace_v2(" + bytes + " bytes)");
    }

    public static void setMathMode(MemorySegment handle, int mode) {
        int r;
        try {
            r = (int) Api.cublasSetMathMode.invokeExact(handle, mode);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, "cublasSetMathMode(" + mode + ")");
    }

    public static void setPointerMode(MemorySegment handle, int mode) {
        int r;
        try {
            r = (int) Api.cublasSetPointerMode.invokeExact(handle, mode);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, "cublasSetPointerMode_v2(" + mode + ")");
    }

    private static String op(int op) {
        return op == CUBLAS_OP_N ? "N" : op == CUBLAS_OP_T ? "T" : String.valueOf(op);
    }

    private static String shape(String call, int transA, int transB, int m, int n, int k, int lda, int ldb, int ldc) {
        return call + "(" + op(transA) + ", " + op(transB) + ", m=" + m + ", n=" + n + ", k=" + k + ", lda=" + lda
                + ", ldb=" + ldb + ", ldc=" + ldc;
    }

    public static void sgemm(MemorySegment handle, int transA, int transB, int m, int n, int k, MemorySegment alpha, long a,
                      int lda, long b, int ldb, MemorySegment beta, long c, int ldc) {
        int r;
        try {
            r = (int) Api.cublasSgemm.invokeExact(handle, transA, transB, m, n, k, alpha, MemorySegment.ofAddress(a), lda,
                    MemorySegment.ofAddress(b), ldb, beta, MemorySegment.ofAddress(c), ldc);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, shape("cublasSgemm_v2", transA, transB, m, n, k, lda, ldb, ldc) + ")");
    }

    /** cublasDgemm_v2: fp64 matrices, fp64 scalars in host memory. */
    public static void dgemm(MemorySegment handle, int transA, int transB, int m, int n, int k, MemorySegment alpha, long a,
                      int lda, long b, int ldb, MemorySegment beta, long c, int ldc) {
        int r;
        try {
            r = (int) Api.cublasDgemm.invokeExact(handle, transA, transB, m, n, k, alpha, MemorySegment.ofAddress(a), lda,
                    MemorySegment.ofAddress(b), ldb, beta, MemorySegment.ofAddress(c), ldc);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) throw failure(r, shape("cublasDgemm_v2", transA, transB, m, n, k, lda, ldb, ldc) + ")");
    }

    public static void sgemmStridedBatched(MemorySegment handle, int transA, int transB, int m, int n, int k, MemorySegment alpha,
                                    long a, int lda, long strideA, long b, int ldb, long strideB, MemorySegment beta,
                                    long c, int ldc, long strideC, int batchCount) {
        int r;
        try {
            r = (int) Api.cublasSgemmStridedBatched.invokeExact(handle, transA, transB, m, n, k, alpha,
                    MemorySegment.ofAddress(a), lda, strideA, MemorySegment.ofAddress(b), ldb, strideB, beta,
                    MemorySegment.ofAddress(c), ldc, strideC, batchCount);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) {
            throw failure(r, shape("cublasSgemmStridedBatched", transA, transB, m, n, k, lda, ldb, ldc) + ", strides "
                    + strideA + "/" + strideB + "/" + strideC + ", batch " + batchCount + ")");
        }
    }

    /** cublasGemmEx with fp32 A, B, C and the given compute type (fp32 scalars in host memory). */
    public static void gemmEx(MemorySegment handle, int transA, int transB, int m, int n, int k, MemorySegment alpha, long a,
                       int lda, long b, int ldb, MemorySegment beta, long c, int ldc, int computeType) {
        int r;
        try {
            r = (int) Api.cublasGemmEx.invokeExact(handle, transA, transB, m, n, k, alpha, MemorySegment.ofAddress(a),
                    CUDA_R_32F, lda, MemorySegment.ofAddress(b), CUDA_R_32F, ldb, beta, MemorySegment.ofAddress(c),
                    CUDA_R_32F, ldc, computeType, CUBLAS_GEMM_DEFAULT);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) {
            throw failure(r, shape("cublasGemmEx", transA, transB, m, n, k, lda, ldb, ldc) + ", compute type " + computeType + ")");
        }
    }

    public static void gemmStridedBatchedEx(MemorySegment handle, int transA, int transB, int m, int n, int k, MemorySegment alpha,
                                     long a, int lda, long strideA, long b, int ldb, long strideB, MemorySegment beta,
                                     long c, int ldc, long strideC, int batchCount, int computeType) {
        int r;
        try {
            r = (int) Api.cublasGemmStridedBatchedEx.invokeExact(handle, transA, transB, m, n, k, alpha,
                    MemorySegment.ofAddress(a), CUDA_R_32F, lda, strideA, MemorySegment.ofAddress(b), CUDA_R_32F, ldb,
                    strideB, beta, MemorySegment.ofAddress(c), CUDA_R_32F, ldc, strideC, batchCount, computeType,
                    CUBLAS_GEMM_DEFAULT);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUBLAS_STATUS_SUCCESS) {
            throw failure(r, shape("cublasGemmStridedBatchedEx", transA, transB, m, n, k, lda, ldb, ldc) + ", strides "
                    + strideA + "/" + strideB + "/" + strideC + ", batch " + batchCount + ", compute type " + computeType + ")");
        }
    }
}
