/*
 * fake_libcuda.c — a test double of libcuda.so.1 for machines without a GPU (FakeDriverTest builds it with the C
 * compiler and loads it through EBM_LIBCUDA in a child JVM). It is compiled against the real cuda.h of the CUDA
 * install, so every function here has the header's exact prototype, and the header's macros give each one the
 * symbol name a CUDA 13 program links to (cuMemAlloc -> cuMemAlloc_v2, cuEventElapsedTime -> cuEventElapsedTime_v2,
 * cuGraphInstantiate -> cuGraphInstantiateWithFlags ...). Java bindings that name another symbol, or pass arguments
 * the prototype does not expect, fail against it.
 *
 * "Device" memory is host memory. Two kernels exist: fake_fill_f32(float* out, long long n, float value) and
 * fake_step_kernel(unsigned long long* out, const unsigned long long* step) (out[0] = 2*step + 1, step read from
 * memory at run time). Stream capture records launches with their argument values copied, as the driver does; a
 * synchronisation or allocation during capture fails with CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and invalidates it.
 */
#include <cuda.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_TOTAL_BYTES (16ULL << 30)
#define FAKE_MAX_ALLOCATION (8ULL << 30)
#define FAKE_MAX_NODES 64

struct CUfunc_st {
    const char* name;
    int param_count;
    size_t param_sizes[4];
};

static struct CUfunc_st fill_kernel = {"fake_fill_f32", 3, {8, 8, 4, 0}};
static struct CUfunc_st step_kernel = {"fake_step_kernel", 2, {8, 8, 0, 0}};

struct node {
    struct CUfunc_st* function;
    unsigned char values[4][8];
};

struct CUgraph_st {
    int count;
    struct node nodes[FAKE_MAX_NODES];
};

struct CUgraphExec_st {
    struct CUgraph_st graph;
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

CUresult CUDAAPI cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, const char* name) {
    REQUIRE_CONTEXT();
    if (hmod == NULL || !hmod->loaded) return CUDA_ERROR_INVALID_HANDLE;
    if (strcmp(name, fill_kernel.name) == 0) *hfunc = &fill_kernel;
    else if (strcmp(name, step_kernel.name) == 0) *hfunc = &step_kernel;
    else return CUDA_ERROR_NOT_FOUND;
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

static void run(const struct node* n) {
    if (n->function == &fill_kernel) {
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
}

CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                                unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, CUstream hStream, void** kernelParams, void** extra) {
    REQUIRE_CONTEXT();
    if (f == NULL || hStream == NULL || kernelParams == NULL || extra != NULL) return CUDA_ERROR_INVALID_VALUE;
    if (gridDimX == 0 || gridDimY == 0 || gridDimZ == 0 || blockDimX * blockDimY * blockDimZ > 1024 || sharedMemBytes > 49152) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    struct node n = {f, {{0}}};
    for (int i = 0; i < f->param_count; i++) memcpy(n.values[i], kernelParams[i], f->param_sizes[i]);
    if (hStream->capturing) {
        if (hStream->graph->count == FAKE_MAX_NODES) return CUDA_ERROR_OUT_OF_MEMORY;
        hStream->graph->nodes[hStream->graph->count++] = n;
        return CUDA_SUCCESS;
    }
    run(&n);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamBeginCapture(CUstream hStream, CUstreamCaptureMode mode) {
    REQUIRE_STREAM(hStream);
    hStream->capturing = 1;
    hStream->invalidated = 0;
    hStream->mode = mode;
    hStream->graph = calloc(1, sizeof(struct CUgraph_st));
    last_capture_mode = mode;
    capturing_streams++;
    capturing_stream = hStream;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamEndCapture(CUstream hStream, CUgraph* phGraph) {
    REQUIRE_CONTEXT();
    if (hStream == NULL || !hStream->capturing) return CUDA_ERROR_INVALID_VALUE;
    hStream->capturing = 0;
    capturing_streams--;
    if (hStream->invalidated) {
        free(hStream->graph);
        *phGraph = NULL;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    *phGraph = hStream->graph;
    live_graphs++;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphInstantiate(CUgraphExec* phGraphExec, CUgraph hGraph, unsigned long long flags) {
    REQUIRE_CONTEXT();
    if (hGraph == NULL || flags != 0) return CUDA_ERROR_INVALID_VALUE;
    *phGraphExec = malloc(sizeof(struct CUgraphExec_st));
    (*phGraphExec)->graph = *hGraph;
    live_execs++;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream) {
    REQUIRE_STREAM(hStream);
    for (int i = 0; i < hGraphExec->graph.count; i++) run(&hGraphExec->graph.nodes[i]);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphExecDestroy(CUgraphExec hGraphExec) {
    REQUIRE_CONTEXT();
    free(hGraphExec);
    live_execs--;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphDestroy(CUgraph hGraph) {
    REQUIRE_CONTEXT();
    free(hGraph);
    live_graphs--;
    return CUDA_SUCCESS;
}
