/*
 * fake_libcuda.c — a test double of libcuda.so.1 for machines without a GPU (FakeDriverTest builds it with the C
 * compiler and loads it through EBM_LIBCUDA in a child JVM). It is compiled against the real cuda.h of the CUDA
 * install, so every function here has the header's exact prototype, and the header's macros give each one the
 * symbol name a CUDA 13 program links to (cuMemAlloc -> cuMemAlloc_v2, cuEventElapsedTime -> cuEventElapsedTime_v2,
 * cuGraphInstantiate -> cuGraphInstantiateWithFlags ...). Java bindings that name another symbol, or pass arguments
 * the prototype does not expect, fail against it.
 *
 * "Device" memory is host memory. Two kernels of its own exist: fake_fill_f32(float* out, long long n, float value)
 * and fake_step_kernel(unsigned long long* out, const unsigned long long* step) (out[0] = 2*step + 1, step read from
 * memory at run time). With FAKE_CUDA_HOST_KERNELS naming the host build of kernels/ (libebm_kernels_host.so), the
 * module also holds every ebm kernel, run through that library's launch shim: the training step and the sampler run
 * through the DriverLauncher here as on a GPU. Stream capture records launches with their argument values copied, as
 * the driver does, and host calls that fake_libcublas.c records through fake_cuda_record_host_call (a GEMM in a
 * capture is recorded, not run); a synchronisation or allocation during capture fails with
 * CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and invalidates it. fake_cuda_fail makes one later call of a capture entry
 * point fail, to test what the Java side does then.
 */
#include <cuda.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_TOTAL_BYTES (16ULL << 30)
#define FAKE_MAX_ALLOCATION (8ULL << 30)
#define FAKE_MAX_PARAMS 16
#define FAKE_HOST_ARG_BYTES 256

struct CUfunc_st {
    const char* name;
    int param_count;
    size_t param_sizes[FAKE_MAX_PARAMS];
    const void* host;           /* the host build's kernel, or NULL for the two kernels above */
    struct CUfunc_st* next;     /* host kernels looked up so far (one CUfunction per name) */
    char host_name[128];
};

static struct CUfunc_st fill_kernel = {"fake_fill_f32", 3, {8, 8, 4}, NULL, NULL, ""};
static struct CUfunc_st step_kernel = {"fake_step_kernel", 2, {8, 8}, NULL, NULL, ""};

enum { NODE_KERNEL, NODE_HOST_CALL };

struct node {
    int kind;
    struct CUfunc_st* function;
    unsigned grid[3], block[3], shared;
    _Alignas(8) unsigned char values[FAKE_MAX_PARAMS][8]; /* each read in place as the kernel's parameter type */
    void (*host_fn)(const void* arg);
    _Alignas(16) unsigned char host_arg[FAKE_HOST_ARG_BYTES];
};

struct CUgraph_st {
    int count, capacity;
    struct node* nodes;
};

struct CUgraphExec_st {
    int count;
    struct node* nodes;
};

struct CUstream_st {
    int capturing;
    int invalidated;
    int mode;
    struct CUgraph_st* graph;
};

struct CUevent_st {
    long long stamp;
};

struct CUctx_st {
    int refs;
};

struct CUmod_st {
    int loaded;
};

static int initialized;
static long long allocated_bytes;
static int live_allocations;
static int live_streams, live_events, live_graphs, live_execs, live_modules, live_host;
static int capturing_streams;
static CUstream capturing_stream; /* the test captures on one stream at a time */
static int last_capture_mode = -1;
static long long clock_stamp;
static struct CUctx_st primary = {0};
static CUcontext current;

/* Read by the test through its own lookup: what the Java side left behind. */
int fake_cuda_live_objects(void) {
    return live_allocations + live_streams + live_events + live_graphs + live_execs + live_modules + live_host + primary.refs;
}
int fake_cuda_last_capture_mode(void) { return last_capture_mode; }
CUcontext fake_cuda_current_context(void) { return current; }
int fake_cuda_live_allocations(void) { return live_allocations; }

/*
 * One injected failure per entry point: after `skip` more calls of `call` succeed, the next returns `code` (see each
 * call for what else happens then). "cuLaunchKernel in capture" counts only launches on a capturing stream.
 */
enum { FAIL_BEGIN_CAPTURE, FAIL_END_CAPTURE, FAIL_INSTANTIATE, FAIL_LAUNCH_IN_CAPTURE, FAIL_POINTS };
static const char* const fail_names[FAIL_POINTS] = {"cuStreamBeginCapture", "cuStreamEndCapture", "cuGraphInstantiate",
                                                    "cuLaunchKernel in capture"};
static CUresult fail_codes[FAIL_POINTS];
static int fail_skips[FAIL_POINTS];
static int captures_begun, graph_launches;

/* Returns 0, or -1 for a name it does not know. */
int fake_cuda_fail(const char* call, int code, int skip) {
    for (int i = 0; i < FAIL_POINTS; i++) {
        if (strcmp(call, fail_names[i]) == 0) {
            fail_codes[i] = (CUresult)code;
            fail_skips[i] = skip;
            return 0;
        }
    }
    return -1;
}
int fake_cuda_captures_begun(void) { return captures_begun; }
int fake_cuda_graph_launches(void) { return graph_launches; }

static CUresult take_failure(int point) {
    if (fail_codes[point] == CUDA_SUCCESS) return CUDA_SUCCESS;
    if (fail_skips[point] > 0) {
        fail_skips[point]--;
        return CUDA_SUCCESS;
    }
    CUresult code = fail_codes[point];
    fail_codes[point] = CUDA_SUCCESS;
    return code;
}

static const struct {
    CUresult code;
    const char* name;
    const char* text;
} errors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"},
    {CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "operation failed due to a previous error during capture"},
    {CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD", "attempt to terminate a thread-local capture sequence from another thread"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
};

static CUresult lookup_error(CUresult error, const char** out, int name) {
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        if (errors[i].code == error) {
            *out = name ? errors[i].name : errors[i].text;
            return CUDA_SUCCESS;
        }
    }
    *out = NULL;
    return CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuGetErrorName(CUresult error, const char** pStr) { return lookup_error(error, pStr, 1); }
CUresult CUDAAPI cuGetErrorString(CUresult error, const char** pStr) { return lookup_error(error, pStr, 0); }

CUresult CUDAAPI cuInit(unsigned int Flags) {
    if (Flags != 0) return CUDA_ERROR_INVALID_VALUE;
    initialized = 1;
    return CUDA_SUCCESS;
}

#define REQUIRE_INIT() do { if (!initialized) return CUDA_ERROR_NOT_INITIALIZED; } while (0)

CUresult CUDAAPI cuDriverGetVersion(int* driverVersion) {
    *driverVersion = 13000;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetCount(int* count) {
    REQUIRE_INIT();
    *count = 1;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGet(CUdevice* device, int ordinal) {
    REQUIRE_INIT();
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetName(char* name, int len, CUdevice dev) {
    REQUIRE_INIT();
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    const char* fake = "Fake GPU (test double)";
    if (len < (int)strlen(fake) + 1) return CUDA_ERROR_INVALID_VALUE;
    strcpy(name, fake);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev) {
    REQUIRE_INIT();
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    switch (attrib) {
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *pi = 9; return CUDA_SUCCESS;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *pi = 0; return CUDA_SUCCESS;
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *pi = 132; return CUDA_SUCCESS;
        default: return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult CUDAAPI cuDeviceTotalMem(size_t* bytes, CUdevice dev) {
    REQUIRE_INIT();
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    *bytes = FAKE_TOTAL_BYTES;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
    REQUIRE_INIT();
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    primary.refs++;
    *pctx = &primary;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev) {
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (primary.refs == 0) return CUDA_ERROR_INVALID_VALUE;
    primary.refs--;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSetCurrent(CUcontext ctx) {
    current = ctx;
    return CUDA_SUCCESS;
}

#define REQUIRE_CONTEXT() do { REQUIRE_INIT(); if (current != &primary || primary.refs == 0) return CUDA_ERROR_INVALID_CONTEXT; } while (0)

CUresult CUDAAPI cuCtxSynchronize(void) {
    REQUIRE_CONTEXT();
    return capturing_streams ? CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED : CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemGetInfo(size_t* free_bytes, size_t* total) {
    REQUIRE_CONTEXT();
    *free_bytes = FAKE_TOTAL_BYTES - (size_t)allocated_bytes;
    *total = FAKE_TOTAL_BYTES;
    return CUDA_SUCCESS;
}

struct header {
    size_t bytes;
    size_t pad[31]; /* keeps the returned pointer 256-byte aligned */
};

CUresult CUDAAPI cuMemAlloc(CUdeviceptr* dptr, size_t bytesize) {
    REQUIRE_CONTEXT();
    if (capturing_streams) { /* not capturable: the driver fails the call and invalidates the capture */
        capturing_stream->invalidated = 1;
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    if (bytesize == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bytesize > FAKE_MAX_ALLOCATION) return CUDA_ERROR_OUT_OF_MEMORY;
    struct header* h = aligned_alloc(256, sizeof(struct header) + ((bytesize + 255) / 256) * 256);
    if (h == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
    h->bytes = bytesize;
    allocated_bytes += (long long)bytesize;
    live_allocations++;
    *dptr = (CUdeviceptr)(uintptr_t)(h + 1);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemFree(CUdeviceptr dptr) {
    REQUIRE_CONTEXT();
    if (dptr == 0) return CUDA_ERROR_INVALID_VALUE;
    struct header* h = (struct header*)(uintptr_t)dptr - 1;
    allocated_bytes -= (long long)h->bytes;
    live_allocations--;
    free(h);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAllocHost(void** pp, size_t bytesize) {
    REQUIRE_CONTEXT();
    *pp = malloc(bytesize);
    live_host++;
    return *pp ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult CUDAAPI cuMemFreeHost(void* p) {
    REQUIRE_CONTEXT();
    free(p);
    live_host--;
    return CUDA_SUCCESS;
}

static void* ptr(CUdeviceptr p) { return (void*)(uintptr_t)p; }

CUresult CUDAAPI cuMemcpyHtoD(CUdeviceptr dstDevice, const void* srcHost, size_t ByteCount) {
    REQUIRE_CONTEXT();
    memcpy(ptr(dstDevice), srcHost, ByteCount);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoH(void* dstHost, CUdeviceptr srcDevice, size_t ByteCount) {
    REQUIRE_CONTEXT();
    memcpy(dstHost, ptr(srcDevice), ByteCount);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoD(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount) {
    REQUIRE_CONTEXT();
    memmove(ptr(dstDevice), ptr(srcDevice), ByteCount);
    return CUDA_SUCCESS;
}

#define REQUIRE_STREAM(s) do { REQUIRE_CONTEXT(); if ((s) == NULL) return CUDA_ERROR_INVALID_HANDLE; if ((s)->capturing) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED; } while (0)

CUresult CUDAAPI cuMemcpyHtoDAsync(CUdeviceptr dstDevice, const void* srcHost, size_t ByteCount, CUstream hStream) {
    REQUIRE_STREAM(hStream);
    memcpy(ptr(dstDevice), srcHost, ByteCount);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoHAsync(void* dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream) {
    REQUIRE_STREAM(hStream);
    memcpy(dstHost, ptr(srcDevice), ByteCount);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoDAsync(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream) {
    REQUIRE_STREAM(hStream);
    memmove(ptr(dstDevice), ptr(srcDevice), ByteCount);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD8(CUdeviceptr dstDevice, unsigned char uc, size_t N) {
    REQUIRE_CONTEXT();
    memset(ptr(dstDevice), uc, N);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD32(CUdeviceptr dstDevice, unsigned int ui, size_t N) {
    REQUIRE_CONTEXT();
    for (size_t i = 0; i < N; i++) ((unsigned int*)ptr(dstDevice))[i] = ui;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream) {
    REQUIRE_STREAM(hStream);
    memset(ptr(dstDevice), uc, N);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream) {
    REQUIRE_STREAM(hStream);
    for (size_t i = 0; i < N; i++) ((unsigned int*)ptr(dstDevice))[i] = ui;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamCreate(CUstream* phStream, unsigned int Flags) {
    REQUIRE_CONTEXT();
    if (Flags != CU_STREAM_NON_BLOCKING) return CUDA_ERROR_INVALID_VALUE; /* the launcher must not block on stream 0 */
    *phStream = calloc(1, sizeof(struct CUstream_st));
    live_streams++;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamSynchronize(CUstream hStream) {
    REQUIRE_CONTEXT();
    if (hStream == NULL) return CUDA_ERROR_INVALID_HANDLE;
    if (hStream->capturing) {
        hStream->invalidated = 1;
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamDestroy(CUstream hStream) {
    REQUIRE_CONTEXT();
    if (hStream == NULL || hStream->capturing) return CUDA_ERROR_INVALID_HANDLE;
    free(hStream);
    live_streams--;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventCreate(CUevent* phEvent, unsigned int Flags) {
    REQUIRE_CONTEXT();
    if (Flags != CU_EVENT_DEFAULT) return CUDA_ERROR_INVALID_VALUE;
    *phEvent = calloc(1, sizeof(struct CUevent_st));
    live_events++;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventRecord(CUevent hEvent, CUstream hStream) {
    REQUIRE_STREAM(hStream);
    hEvent->stamp = ++clock_stamp;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventSynchronize(CUevent hEvent) {
    REQUIRE_CONTEXT();
    return hEvent->stamp ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult CUDAAPI cuEventElapsedTime(float* pMilliseconds, CUevent hStart, CUevent hEnd) {
    REQUIRE_CONTEXT();
    if (!hStart->stamp || !hEnd->stamp) return CUDA_ERROR_INVALID_HANDLE;
    *pMilliseconds = 0.25f * (float)(hEnd->stamp - hStart->stamp);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventDestroy(CUevent hEvent) {
    REQUIRE_CONTEXT();
    free(hEvent);
    live_events--;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int numOptions, CUjit_option* options,
                                    void** optionValues) {
    REQUIRE_CONTEXT();
    if (memcmp(image, "BADPTX", 6) == 0) {
        char* log = NULL;
        size_t size = 0;
        for (unsigned i = 0; i < numOptions; i++) {
            if (options[i] == CU_JIT_ERROR_LOG_BUFFER) log = optionValues[i];
            if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES) size = (size_t)(uintptr_t)optionValues[i];
        }
        if (log != NULL && size > 0) {
            strncpy(log, "ptxas fatal   : fake JIT failure on line 7\nsecond line", size - 1);
            log[size - 1] = 0;
        }
        return CUDA_ERROR_INVALID_PTX;
    }
    if (memcmp(image, "FAKEBIN", 7) != 0) return CUDA_ERROR_INVALID_VALUE;
    *module = calloc(1, sizeof(struct CUmod_st));
    (*module)->loaded = 1;
    live_modules++;
    return CUDA_SUCCESS;
}

/* The host build of kernels/ (FAKE_CUDA_HOST_KERNELS), opened on first use; its shim is shaped like the driver API. */
static struct {
    int tried;
    void* library;
    const void* (*get_function)(const char* name);
    int (*param_count)(const void* function);
    long long (*param_size)(const void* function, int index);
    int (*launch)(const void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                  unsigned shared_bytes, void** params);
    const char* (*last_error)(void);
} host;
static struct CUfunc_st* host_functions;

static int open_host_kernels(void) {
    if (host.tried) return host.library != NULL;
    host.tried = 1;
    const char* path = getenv("FAKE_CUDA_HOST_KERNELS");
    if (path == NULL || *path == 0) return 0;
    void* library = dlopen(path, RTLD_NOW);
    if (library == NULL) {
        fprintf(stderr, "fake libcuda: FAKE_CUDA_HOST_KERNELS: %s\n", dlerror());
        return 0;
    }
    host.get_function = (const void* (*)(const char*))dlsym(library, "ebm_host_get_function");
    host.param_count = (int (*)(const void*))dlsym(library, "ebm_host_function_param_count");
    host.param_size = (long long (*)(const void*, int))dlsym(library, "ebm_host_function_param_size");
    host.launch = (int (*)(const void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void**))
        dlsym(library, "ebm_host_launch_kernel");
    host.last_error = (const char* (*)(void))dlsym(library, "ebm_host_last_error");
    if (!host.get_function || !host.param_count || !host.param_size || !host.launch || !host.last_error) {
        fprintf(stderr, "fake libcuda: %s lacks the host launch shim\n", path);
        return 0;
    }
    host.library = library;
    return 1;
}

static struct CUfunc_st* host_function(const char* name) {
    for (struct CUfunc_st* f = host_functions; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0) return f;
    }
    if (!open_host_kernels() || strlen(name) >= sizeof host_functions->host_name) return NULL;
    const void* kernel = host.get_function(name);
    if (kernel == NULL) return NULL;
    int count = host.param_count(kernel);
    if (count > FAKE_MAX_PARAMS) return NULL;
    struct CUfunc_st* f = calloc(1, sizeof *f);
    strcpy(f->host_name, name);
    f->name = f->host_name;
    f->param_count = count;
    for (int i = 0; i < count; i++) f->param_sizes[i] = (size_t)host.param_size(kernel, i);
    f->host = kernel;
    f->next = host_functions;
    host_functions = f;
    return f;
}

CUresult CUDAAPI cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, const char* name) {
    REQUIRE_CONTEXT();
    if (hmod == NULL || !hmod->loaded) return CUDA_ERROR_INVALID_HANDLE;
    if (strcmp(name, fill_kernel.name) == 0) *hfunc = &fill_kernel;
    else if (strcmp(name, step_kernel.name) == 0) *hfunc = &step_kernel;
    else if ((*hfunc = host_function(name)) == NULL) return CUDA_ERROR_NOT_FOUND;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncGetParamInfo(CUfunction func, size_t paramIndex, size_t* paramOffset, size_t* paramSize) {
    if (func == NULL) return CUDA_ERROR_INVALID_HANDLE;
    if (paramIndex >= (size_t)func->param_count) return CUDA_ERROR_INVALID_VALUE;
    size_t offset = 0;
    for (size_t i = 0; i < paramIndex; i++) offset += func->param_sizes[i];
    *paramOffset = offset;
    if (paramSize != NULL) *paramSize = func->param_sizes[paramIndex];
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleUnload(CUmodule hmod) {
    REQUIRE_CONTEXT();
    free(hmod);
    live_modules--;
    return CUDA_SUCCESS;
}

static CUresult run(const struct node* n) {
    if (n->kind == NODE_HOST_CALL) {
        n->host_fn(n->host_arg);
    } else if (n->function->host != NULL) {
        void* params[FAKE_MAX_PARAMS];
        for (int i = 0; i < n->function->param_count; i++) params[i] = (void*)n->values[i];
        int status = host.launch(n->function->host, n->grid[0], n->grid[1], n->grid[2], n->block[0], n->block[1],
                                 n->block[2], n->shared, params);
        if (status != 0) {
            fprintf(stderr, "fake libcuda: host launch of %s failed: %s\n", n->function->name, host.last_error());
            return CUDA_ERROR_LAUNCH_FAILED;
        }
    } else if (n->function == &fill_kernel) {
        float* out;
        long long count;
        float value;
        memcpy(&out, n->values[0], 8);
        memcpy(&count, n->values[1], 8);
        memcpy(&value, n->values[2], 4);
        for (long long i = 0; i < count; i++) out[i] = value;
    } else {
        unsigned long long *out, *step;
        memcpy(&out, n->values[0], 8);
        memcpy(&step, n->values[1], 8);
        out[0] = 2 * *step + 1;
    }
    return CUDA_SUCCESS;
}

/* Appends a node to the stream's capture. */
static CUresult record(CUstream stream, const struct node* n) {
    struct CUgraph_st* g = stream->graph;
    if (g->count == g->capacity) {
        int capacity = g->capacity == 0 ? 64 : 2 * g->capacity;
        struct node* grown = realloc(g->nodes, (size_t)capacity * sizeof *grown);
        if (grown == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
        g->nodes = grown;
        g->capacity = capacity;
    }
    g->nodes[g->count++] = *n;
    return CUDA_SUCCESS;
}

/*
 * For fake_libcublas.c: while `stream` captures, records fn(arg) (bytes of arg copied) as a node and returns 1; when
 * it does not, returns 0 and the caller runs fn itself; -1 when arg is too large or the node cannot be stored.
 */
int fake_cuda_record_host_call(CUstream stream, void (*fn)(const void* arg), const void* arg, size_t bytes) {
    if (stream == NULL || !stream->capturing) return 0;
    if (bytes > FAKE_HOST_ARG_BYTES) return -1;
    struct node n;
    memset(&n, 0, sizeof n);
    n.kind = NODE_HOST_CALL;
    n.host_fn = fn;
    memcpy(n.host_arg, arg, bytes);
    return record(stream, &n) == CUDA_SUCCESS ? 1 : -1;
}

CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                                unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, CUstream hStream, void** kernelParams, void** extra) {
    REQUIRE_CONTEXT();
    if (f == NULL || hStream == NULL || kernelParams == NULL || extra != NULL) return CUDA_ERROR_INVALID_VALUE;
    if (gridDimX == 0 || gridDimY == 0 || gridDimZ == 0 || blockDimX * blockDimY * blockDimZ > 1024 || sharedMemBytes > 49152) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    struct node n;
    memset(&n, 0, sizeof n);
    n.kind = NODE_KERNEL;
    n.function = f;
    n.grid[0] = gridDimX, n.grid[1] = gridDimY, n.grid[2] = gridDimZ;
    n.block[0] = blockDimX, n.block[1] = blockDimY, n.block[2] = blockDimZ;
    n.shared = sharedMemBytes;
    for (int i = 0; i < f->param_count; i++) {
        if (f->param_sizes[i] > sizeof n.values[i]) return CUDA_ERROR_INVALID_VALUE;
        memcpy(n.values[i], kernelParams[i], f->param_sizes[i]);
    }
    if (hStream->capturing) {
        CUresult injected = take_failure(FAIL_LAUNCH_IN_CAPTURE); /* a launch the capture refuses: invalidated */
        if (injected != CUDA_SUCCESS) {
            hStream->invalidated = 1;
            return injected;
        }
        return record(hStream, &n);
    }
    return run(&n);
}

CUresult CUDAAPI cuStreamBeginCapture(CUstream hStream, CUstreamCaptureMode mode) {
    REQUIRE_STREAM(hStream);
    CUresult injected = take_failure(FAIL_BEGIN_CAPTURE); /* refused: no capture begins */
    if (injected != CUDA_SUCCESS) return injected;
    captures_begun++;
    hStream->capturing = 1;
    hStream->invalidated = 0;
    hStream->mode = mode;
    hStream->graph = calloc(1, sizeof(struct CUgraph_st));
    last_capture_mode = mode;
    capturing_streams++;
    capturing_stream = hStream;
    return CUDA_SUCCESS;
}

static void free_graph(struct CUgraph_st* graph) {
    free(graph->nodes);
    free(graph);
}

/*
 * An injected CUDA_ERROR_STREAM_CAPTURE_INVALIDATED ends the capture and returns no graph, as the driver does for a
 * capture that broke its rules; any other injected code leaves the stream capturing (a refused end), so that only a
 * caller that checks and ends it again gets its stream back.
 */
CUresult CUDAAPI cuStreamEndCapture(CUstream hStream, CUgraph* phGraph) {
    REQUIRE_CONTEXT();
    if (hStream == NULL || !hStream->capturing) return CUDA_ERROR_INVALID_VALUE;
    CUresult injected = take_failure(FAIL_END_CAPTURE);
    if (injected == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED) {
        hStream->invalidated = 1;
    } else if (injected != CUDA_SUCCESS) {
        *phGraph = NULL;
        return injected;
    }
    hStream->capturing = 0;
    capturing_streams--;
    if (hStream->invalidated) {
        free_graph(hStream->graph);
        hStream->graph = NULL;
        *phGraph = NULL;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    *phGraph = hStream->graph;
    hStream->graph = NULL;
    live_graphs++;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamIsCapturing(CUstream hStream, CUstreamCaptureStatus* captureStatus) {
    REQUIRE_CONTEXT();
    if (hStream == NULL) return CUDA_ERROR_INVALID_HANDLE;
    *captureStatus = !hStream->capturing ? CU_STREAM_CAPTURE_STATUS_NONE
                     : hStream->invalidated ? CU_STREAM_CAPTURE_STATUS_INVALIDATED : CU_STREAM_CAPTURE_STATUS_ACTIVE;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphInstantiate(CUgraphExec* phGraphExec, CUgraph hGraph, unsigned long long flags) {
    REQUIRE_CONTEXT();
    if (hGraph == NULL || flags != 0) return CUDA_ERROR_INVALID_VALUE;
    CUresult injected = take_failure(FAIL_INSTANTIATE); /* refused: no executable graph */
    if (injected != CUDA_SUCCESS) return injected;
    struct CUgraphExec_st* exec = malloc(sizeof *exec);
    exec->count = hGraph->count;
    exec->nodes = malloc((size_t)(hGraph->count > 0 ? hGraph->count : 1) * sizeof *exec->nodes);
    if (hGraph->count > 0) memcpy(exec->nodes, hGraph->nodes, (size_t)hGraph->count * sizeof *exec->nodes);
    *phGraphExec = exec;
    live_execs++;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream) {
    REQUIRE_STREAM(hStream);
    graph_launches++;
    for (int i = 0; i < hGraphExec->count; i++) {
        CUresult r = run(&hGraphExec->nodes[i]);
        if (r != CUDA_SUCCESS) return r;
    }
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphExecDestroy(CUgraphExec hGraphExec) {
    REQUIRE_CONTEXT();
    free(hGraphExec->nodes);
    free(hGraphExec);
    live_execs--;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphDestroy(CUgraph hGraph) {
    REQUIRE_CONTEXT();
    free_graph(hGraph);
    live_graphs--;
    return CUDA_SUCCESS;
}
