/*
 * fake_libcublas.c — a test double of libcublas.so.13 for machines without a GPU or cuBLAS (FakeDriverTest builds
 * it and loads it through EBM_LIBCUBLAS beside fake_libcuda.c, whose "device" memory is host memory). The
 * prototypes follow cuBLAS's documented C API (cublas_api.h is not installed here); the GEMMs are naive loops with
 * cuBLAS's semantics (column-major, op(A)/op(B), leading dimensions, C not read when beta == 0), and each call checks
 * its arguments the way cuBLAS does (CUBLAS_STATUS_INVALID_VALUE), so argument order and enum values are exercised.
 * A GEMM on a stream that fake_libcuda.c is capturing is recorded into that capture (its arguments, α and β by value
 * as cuBLAS's host pointer mode takes them) and runs when the graph is launched, as on a GPU.
 */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef int cublasStatus_t;
typedef struct fake_handle {
    void* stream;
    void* workspace;
    size_t workspace_bytes;
    int math_mode;
    int pointer_mode;
} *cublasHandle_t;

enum { SUCCESS = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 7, INTERNAL_ERROR = 14, NOT_SUPPORTED = 15 };
enum { OP_N = 0, OP_T = 1 };
enum { CUDA_R_32F = 0, COMPUTE_32F = 68, COMPUTE_32F_FAST_16BF = 75, COMPUTE_32F_FAST_TF32 = 77, GEMM_DEFAULT = -1 };

static int live_handles;
int fake_cublas_live_handles(void) { return live_handles; }
static size_t last_workspace_bytes;
size_t fake_cublas_workspace_bytes(void) { return last_workspace_bytes; }
static int last_compute_type = -1;
int fake_cublas_last_compute_type(void) { return last_compute_type; }

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
    *handle = calloc(1, sizeof(struct fake_handle));
    live_handles++;
    return SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
    if (handle == NULL) return NOT_INITIALIZED;
    free(handle);
    live_handles--;
    return SUCCESS;
}

cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int* version) {
    if (handle == NULL) return NOT_INITIALIZED;
    *version = 130002;
    return SUCCESS;
}

cublasStatus_t cublasGetProperty(int type, int* value) {
    static const int parts[3] = {13, 0, 2};
    if (type < 0 || type > 2) return INVALID_VALUE;
    *value = parts[type];
    return SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, void* stream) {
    if (handle == NULL) return NOT_INITIALIZED;
    handle->stream = stream;
    handle->workspace = NULL; /* as documented: setting the stream resets the workspace to the default pool */
    handle->workspace_bytes = 0;
    return SUCCESS;
}

cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t workspaceSizeInBytes) {
    if (handle == NULL) return NOT_INITIALIZED;
    if ((uintptr_t)workspace % 256 != 0) return INVALID_VALUE;
    handle->workspace = workspace;
    handle->workspace_bytes = workspaceSizeInBytes;
    last_workspace_bytes = workspaceSizeInBytes;
    return SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode) {
    if (handle == NULL) return NOT_INITIALIZED;
    handle->math_mode = mode;
    return SUCCESS;
}

cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, int mode) {
    if (handle == NULL) return NOT_INITIALIZED;
    if (mode != 0 && mode != 1) return INVALID_VALUE;
    handle->pointer_mode = mode;
    return SUCCESS;
}

static int check(cublasHandle_t h, int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc) {
    if (h == NULL) return NOT_INITIALIZED;
    if (h->pointer_mode != 0) return NOT_SUPPORTED; /* this double reads alpha/beta from host memory only */
    if (h->workspace == NULL) return NOT_SUPPORTED; /* ebm installs its own workspace (after the stream, which resets it) */
    if ((ta != OP_N && ta != OP_T) || (tb != OP_N && tb != OP_T) || m < 0 || n < 0 || k < 0) return INVALID_VALUE;
    int rows_a = ta == OP_N ? m : k, rows_b = tb == OP_N ? k : n;
    if (lda < (rows_a > 1 ? rows_a : 1) || ldb < (rows_b > 1 ? rows_b : 1) || ldc < (m > 1 ? m : 1)) return INVALID_VALUE;
    return SUCCESS;
}

static void gemm(int ta, int tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                 float beta, float* c, int ldc) {
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double sum = 0;
            for (int p = 0; p < k; p++) {
                double x = ta == OP_N ? a[i + (size_t)p * lda] : a[p + (size_t)i * lda];
                double y = tb == OP_N ? b[p + (size_t)j * ldb] : b[j + (size_t)p * ldb];
                sum += x * y;
            }
            float* out = &c[i + (size_t)j * ldc];
            *out = (float)(alpha * sum + (beta == 0.0f ? 0.0 : (double)beta * *out));
        }
    }
}

/* The fp64 gemm, summed in long double so that it stays a reference for cuBLAS's fp64 sums. */
static void dgemm(int transa, int transb, int m, int n, int k, double alpha, const double* A, int lda, const double* B,
                  int ldb, double beta, double* C, int ldc) {
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            long double sum = 0;
            for (int p = 0; p < k; p++) {
                double x = transa == OP_N ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda];
                double y = transb == OP_N ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb];
                sum += (long double)x * y;
            }
            double* out = &C[i + (size_t)j * ldc];
            *out = (double)(alpha * sum + (beta == 0.0 ? 0.0L : (long double)beta * *out));
        }
    }
}

/* One GEMM call with its arguments by value: run now, or recorded into a capture and run at each graph launch. */
struct call {
    int fp64, ta, tb, m, n, k, lda, ldb, ldc, batch;
    double alpha, beta;
    const void *a, *b;
    void* c;
    long long stride_a, stride_b, stride_c;
};

static void run_call(const void* arg) {
    const struct call* c = arg;
    if (c->fp64) {
        dgemm(c->ta, c->tb, c->m, c->n, c->k, c->alpha, c->a, c->lda, c->b, c->ldb, c->beta, c->c, c->ldc);
        return;
    }
    for (int q = 0; q < c->batch; q++) {
        gemm(c->ta, c->tb, c->m, c->n, c->k, (float)c->alpha, (const float*)c->a + q * c->stride_a, c->lda,
             (const float*)c->b + q * c->stride_b, c->ldb, (float)c->beta, (float*)c->c + q * c->stride_c, c->ldc);
    }
}

typedef int (*record_fn)(void* stream, void (*fn)(const void* arg), const void* arg, size_t bytes);

/* fake_libcuda.c's recorder, from the copy of it loaded through EBM_LIBCUDA (none: every call runs at once). */
static record_fn recorder(void) {
    static int looked;
    static record_fn fn;
    if (!looked) {
        looked = 1;
        const char* path = getenv("EBM_LIBCUDA");
        void* cuda = path == NULL ? NULL : dlopen(path, RTLD_NOW | RTLD_NOLOAD);
        if (cuda != NULL) fn = (record_fn)dlsym(cuda, "fake_cuda_record_host_call");
    }
    return fn;
}

static cublasStatus_t submit(cublasHandle_t handle, const struct call* c) {
    record_fn record = recorder();
    int recorded = record == NULL ? 0 : record(handle->stream, run_call, c, sizeof *c);
    if (recorded < 0) return INTERNAL_ERROR;
    if (recorded == 0) run_call(c);
    return SUCCESS;
}

static struct call fp32_call(int ta, int tb, int m, int n, int k, float alpha, const void* a, int lda, long long sa,
                             const void* b, int ldb, long long sb, float beta, void* c, int ldc, long long sc, int batch) {
    struct call out = {0, ta, tb, m, n, k, lda, ldb, ldc, batch, alpha, beta, a, b, c, sa, sb, sc};
    return out;
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc) {
    int status = check(handle, transa, transb, m, n, k, lda, ldb, ldc);
    if (status != SUCCESS) return status;
    struct call c = fp32_call(transa, transb, m, n, k, *alpha, A, lda, 0, B, ldb, 0, *beta, C, ldc, 0, 1);
    return submit(handle, &c);
}

cublasStatus_t cublasDgemm_v2(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const double* alpha,
                              const double* A, int lda, const double* B, int ldb, const double* beta, double* C, int ldc) {
    int status = check(handle, transa, transb, m, n, k, lda, ldb, ldc);
    if (status != SUCCESS) return status;
    struct call c = {1, transa, transb, m, n, k, lda, ldb, ldc, 1, *alpha, *beta, A, B, C, 0, 0, 0};
    return submit(handle, &c);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, int transa, int transb, int m, int n, int k,
                                         const float* alpha, const float* A, int lda, long long strideA, const float* B,
                                         int ldb, long long strideB, const float* beta, float* C, int ldc,
                                         long long strideC, int batchCount) {
    int status = check(handle, transa, transb, m, n, k, lda, ldb, ldc);
    if (status != SUCCESS) return status;
    if (batchCount < 0) return INVALID_VALUE;
    struct call c = fp32_call(transa, transb, m, n, k, *alpha, A, lda, strideA, B, ldb, strideB, *beta, C, ldc, strideC,
                              batchCount);
    return submit(handle, &c);
}

static int check_ex(int atype, int btype, int ctype, int compute, int algo) {
    if (atype != CUDA_R_32F || btype != CUDA_R_32F || ctype != CUDA_R_32F) return NOT_SUPPORTED;
    if (compute != COMPUTE_32F && compute != COMPUTE_32F_FAST_16BF && compute != COMPUTE_32F_FAST_TF32) return NOT_SUPPORTED;
    if (algo != GEMM_DEFAULT) return INVALID_VALUE;
    last_compute_type = compute;
    return SUCCESS;
}

cublasStatus_t cublasGemmEx(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const void* alpha,
                            const void* A, int Atype, int lda, const void* B, int Btype, int ldb, const void* beta,
                            void* C, int Ctype, int ldc, int computeType, int algo) {
    int status = check(handle, transa, transb, m, n, k, lda, ldb, ldc);
    if (status == SUCCESS) status = check_ex(Atype, Btype, Ctype, computeType, algo);
    if (status != SUCCESS) return status;
    struct call c = fp32_call(transa, transb, m, n, k, *(const float*)alpha, A, lda, 0, B, ldb, 0, *(const float*)beta,
                              C, ldc, 0, 1);
    return submit(handle, &c);
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, int transa, int transb, int m, int n, int k,
                                          const void* alpha, const void* A, int Atype, int lda, long long strideA,
                                          const void* B, int Btype, int ldb, long long strideB, const void* beta,
                                          void* C, int Ctype, int ldc, long long strideC, int batchCount,
                                          int computeType, int algo) {
    int status = check(handle, transa, transb, m, n, k, lda, ldb, ldc);
    if (status == SUCCESS) status = check_ex(Atype, Btype, Ctype, computeType, algo);
    if (status != SUCCESS) return status;
    if (batchCount < 0) return INVALID_VALUE;
    struct call c = fp32_call(transa, transb, m, n, k, *(const float*)alpha, A, lda, strideA, B, ldb, strideB,
                              *(const float*)beta, C, ldc, strideC, batchCount);
    return submit(handle, &c);
}
