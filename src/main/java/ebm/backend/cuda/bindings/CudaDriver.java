package ebm.backend.cuda.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API (libcuda.so.1) through FFM downcalls. Types follow cuda.h of CUDA 13.0 exactly: CUresult,
 * CUdevice, enums and {@code unsigned int} are JAVA_INT; CUdeviceptr ({@code unsigned long long}) and size_t are
 * JAVA_LONG; handles (CUcontext, CUstream, CUmodule, CUfunction, CUevent, CUgraph, CUgraphExec) and host pointers
 * are ADDRESS; out-parameters are segments the wrapper allocates. Symbols are the versioned names cuda.h's macros
 * expand to (cuMemAlloc → cuMemAlloc_v2 ...), so the ABI is the current one, never a legacy 32-bit entry point.
 * Contexts are primary contexts (cuDevicePrimaryCtxRetain): cuCtxCreate changed signature in CUDA 13 (cuCtxCreate_v4)
 * and is not needed.
 *
 * <p>Handles are bound lazily in {@link Api}, a holder class that is initialised on the first call; a machine with no
 * libcuda gets handles that throw the library search's one-line message, so loading these classes never fails.
 * Every wrapper calls with invokeExact and turns a non-zero CUresult into a {@link CudaException} naming the call,
 * its arguments, and the driver's error name and string.
 */
public final class CudaDriver {
    static final int CUDA_SUCCESS = 0;
    static final int CUDA_ERROR_INVALID_VALUE = 1;
    public static final int CUDA_ERROR_OUT_OF_MEMORY = CudaException.CUDA_ERROR_OUT_OF_MEMORY;
    static final int CUDA_ERROR_NOT_FOUND = 500;
    static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_STREAM_NON_BLOCKING = 0x1;
    public static final int CU_EVENT_DEFAULT = 0x0;
    public static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    private static final int JIT_LOG_BYTES = 16 * 1024;

    private CudaDriver() {}

    /** Bound on first use (class initialisation of a holder), one static final per entry point. */
    private static final class Api {
        private static MethodHandle bind(String symbol, MemoryLayout... args) {
            return NativeBindings.bind(CudaLibraries.system().cuda(), symbol, FunctionDescriptor.of(JAVA_INT, args));
        }

        static final MethodHandle cuGetErrorName = bind("cuGetErrorName", JAVA_INT, ADDRESS);
        static final MethodHandle cuGetErrorString = bind("cuGetErrorString", JAVA_INT, ADDRESS);
        static final MethodHandle cuInit = bind("cuInit", JAVA_INT);
        static final MethodHandle cuDriverGetVersion = bind("cuDriverGetVersion", ADDRESS);
        static final MethodHandle cuDeviceGetCount = bind("cuDeviceGetCount", ADDRESS);
        static final MethodHandle cuDeviceGet = bind("cuDeviceGet", ADDRESS, JAVA_INT);
        static final MethodHandle cuDeviceGetName = bind("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle cuDeviceGetAttribute = bind("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle cuDeviceTotalMem = bind("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        static final MethodHandle cuDevicePrimaryCtxRetain = bind("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        static final MethodHandle cuDevicePrimaryCtxRelease = bind("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        static final MethodHandle cuCtxSetCurrent = bind("cuCtxSetCurrent", ADDRESS);
        static final MethodHandle cuCtxSynchronize = bind("cuCtxSynchronize");
        static final MethodHandle cuMemGetInfo = bind("cuMemGetInfo_v2", ADDRESS, ADDRESS);
        static final MethodHandle cuMemAlloc = bind("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        static final MethodHandle cuMemFree = bind("cuMemFree_v2", JAVA_LONG);
        static final MethodHandle cuMemAllocHost = bind("cuMemAllocHost_v2", ADDRESS, JAVA_LONG);
        static final MethodHandle cuMemFreeHost = bind("cuMemFreeHost", ADDRESS);
        static final MethodHandle cuMemcpyHtoD = bind("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        static final MethodHandle cuMemcpyDtoH = bind("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemcpyDtoD = bind("cuMemcpyDtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemcpyHtoDAsync = bind("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        static final MethodHandle cuMemcpyDtoHAsync = bind("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        static final MethodHandle cuMemcpyDtoDAsync = bind("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        static final MethodHandle cuMemsetD8 = bind("cuMemsetD8_v2", JAVA_LONG, JAVA_BYTE, JAVA_LONG);
        static final MethodHandle cuMemsetD32 = bind("cuMemsetD32_v2", JAVA_LONG, JAVA_INT, JAVA_LONG);
        // The stream-ordered memsets have no _v2: cuda.h maps cuMemsetD8Async only to a _ptsz variant.
        static final MethodHandle cuMemsetD8Async = bind("cuMemsetD8Async", JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS);
        static final MethodHandle cuMemsetD32Async = bind("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
        static final MethodHandle cuStreamCreate = bind("cuStreamCreate", ADDRESS, JAVA_INT);
        static final MethodHandle cuStreamSynchronize = bind("cuStreamSynchronize", ADDRESS);
        static final MethodHandle cuStreamDestroy = bind("cuStreamDestroy_v2", ADDRESS);
        static final MethodHandle cuEventCreate = bind("cuEventCreate", ADDRESS, JAVA_INT);
        static final MethodHandle cuEventRecord = bind("cuEventRecord", ADDRESS, ADDRESS);
        static final MethodHandle cuEventSynchronize = bind("cuEventSynchronize", ADDRESS);
        // CUDA 13's cuda.h: "#define cuEventElapsedTime cuEventElapsedTime_v2"; the unversioned symbol is only kept
        // for binaries built against older headers. Same signature: (float *ms, CUevent start, CUevent end).
        static final MethodHandle cuEventElapsedTime = bind("cuEventElapsedTime_v2", ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle cuEventDestroy = bind("cuEventDestroy_v2", ADDRESS);
        static final MethodHandle cuModuleLoadDataEx = bind("cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle cuModuleGetFunction = bind("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle cuModuleUnload = bind("cuModuleUnload", ADDRESS);
        static final MethodHandle cuFuncGetParamInfo = bind("cuFuncGetParamInfo", ADDRESS, JAVA_LONG, ADDRESS, ADDRESS);
        static final MethodHandle cuLaunchKernel = bind("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle cuStreamBeginCapture = bind("cuStreamBeginCapture_v2", ADDRESS, JAVA_INT);
        static final MethodHandle cuStreamEndCapture = bind("cuStreamEndCapture", ADDRESS, ADDRESS);
        static final MethodHandle cuStreamIsCapturing = bind("cuStreamIsCapturing", ADDRESS, ADDRESS);
        static final MethodHandle cuGraphInstantiateWithFlags = bind("cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG);
        static final MethodHandle cuGraphLaunch = bind("cuGraphLaunch", ADDRESS, ADDRESS);
        static final MethodHandle cuGraphExecDestroy = bind("cuGraphExecDestroy", ADDRESS);
        static final MethodHandle cuGraphDestroy = bind("cuGraphDestroy", ADDRESS);
    }

    /** A device as `ebm info` and reports show it. */
    public record Device(int ordinal, String name, int major, int minor, int multiprocessors, long totalMemory) {
        public String computeCapability() {
            return major + "." + minor;
        }
    }

    // ---- errors ---------------------------------------------------------------------------------------------------

    static CudaException failure(int code, String call) {
        return new CudaException(call, code, errorName(code), errorString(code));
    }

    /** cuGetErrorName, or "CUresult N" when the driver does not know the code (or is absent). */
    public static String errorName(int code) {
        return errorText(code, true);
    }

    public static String errorString(int code) {
        return errorText(code, false);
    }

    private static String errorText(int code, boolean name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = name ? (int) Api.cuGetErrorName.invokeExact(code, out) : (int) Api.cuGetErrorString.invokeExact(code, out);
            MemorySegment text = out.get(ADDRESS, 0);
            if (r == CUDA_SUCCESS && !text.equals(MemorySegment.NULL)) return text.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable ignored) {
            // no driver to ask: the numeric form below still names the code
        }
        return name ? "CUresult " + code : null;
    }

    // ---- initialisation and devices -------------------------------------------------------------------------------

    public static void init() {
        int r;
        try {
            r = (int) Api.cuInit.invokeExact(0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuInit(0)");
    }

    /** The driver's CUDA version as cuDriverGetVersion reports it: 1000·major + 10·minor (13000 for 13.0). */
    public static int driverVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int r = (int) Api.cuDriverGetVersion.invokeExact(out);
            if (r != CUDA_SUCCESS) throw failure(r, "cuDriverGetVersion");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static String formatVersion(int version) {
        return version / 1000 + "." + version % 1000 / 10;
    }

    public static int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int r = (int) Api.cuDeviceGetCount.invokeExact(out);
            if (r != CUDA_SUCCESS) throw failure(r, "cuDeviceGetCount");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static int device(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int r = (int) Api.cuDeviceGet.invokeExact(out, ordinal);
            if (r != CUDA_SUCCESS) throw failure(r, "cuDeviceGet(" + ordinal + ")");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    static int deviceAttribute(int attribute, int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int r = (int) Api.cuDeviceGetAttribute.invokeExact(out, attribute, device);
            if (r != CUDA_SUCCESS) throw failure(r, "cuDeviceGetAttribute(" + attribute + ", device " + device + ")");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    /** Name, compute capability, SM count and memory of the device with this ordinal (needs {@link #init()}). */
    public static Device deviceInfo(int ordinal) {
        int dev = device(ordinal);
        String name;
        long total;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(256);
            int r = (int) Api.cuDeviceGetName.invokeExact(buffer, 256, dev);
            if (r != CUDA_SUCCESS) throw failure(r, "cuDeviceGetName(device " + dev + ")");
            name = buffer.getString(0);
            MemorySegment bytes = arena.allocate(JAVA_LONG);
            r = (int) Api.cuDeviceTotalMem.invokeExact(bytes, dev);
            if (r != CUDA_SUCCESS) throw failure(r, "cuDeviceTotalMem_v2(device " + dev + ")");
            total = bytes.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        return new Device(ordinal, name, deviceAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev),
                deviceAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev),
                deviceAttribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev), total);
    }

    // ---- contexts -------------------------------------------------------------------------------------------------

    public static MemorySegment primaryContextRetain(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cuDevicePrimaryCtxRetain.invokeExact(out, device);
            if (r != CUDA_SUCCESS) throw failure(r, "cuDevicePrimaryCtxRetain(device " + device + ")");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void primaryContextRelease(int device) {
        int r;
        try {
            r = (int) Api.cuDevicePrimaryCtxRelease.invokeExact(device);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuDevicePrimaryCtxRelease_v2(device " + device + ")");
    }

    public static void contextSetCurrent(MemorySegment context) {
        int r;
        try {
            r = (int) Api.cuCtxSetCurrent.invokeExact(context);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuCtxSetCurrent");
    }

    static void contextSynchronize() {
        int r;
        try {
            r = (int) Api.cuCtxSynchronize.invokeExact();
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuCtxSynchronize");
    }

    // ---- memory ---------------------------------------------------------------------------------------------------

    /** {free, total} bytes of the current context's device. */
    public static long[] memoryInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(JAVA_LONG);
            MemorySegment total = arena.allocate(JAVA_LONG);
            int r = (int) Api.cuMemGetInfo.invokeExact(free, total);
            if (r != CUDA_SUCCESS) throw failure(r, "cuMemGetInfo_v2");
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    /** cuMemAlloc_v2; a failure is a CudaException whose call names the size and the label. */
    public static long memAlloc(long bytes, String label) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            int r = (int) Api.cuMemAlloc.invokeExact(out, bytes);
            if (r != CUDA_SUCCESS) throw failure(r, allocationCall(bytes, label));
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    static String allocationCall(long bytes, String label) {
        return "cuMemAlloc_v2(" + bytes + " bytes for '" + label + "')";
    }

    public static void memFree(long pointer) {
        int r;
        try {
            r = (int) Api.cuMemFree.invokeExact(pointer);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemFree_v2(0x" + Long.toHexString(pointer) + ")");
    }

    /** Page-locked host memory (fast, truly asynchronous copies); free with {@link #memFreeHost}. */
    public static MemorySegment memAllocHost(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cuMemAllocHost.invokeExact(out, bytes);
            if (r != CUDA_SUCCESS) throw failure(r, "cuMemAllocHost_v2(" + bytes + " bytes)");
            return out.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void memFreeHost(MemorySegment pointer) {
        int r;
        try {
            r = (int) Api.cuMemFreeHost.invokeExact(pointer);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemFreeHost");
    }

    /** Synchronous copies on the legacy default stream (not ordered with a non-blocking stream's work). */
    static void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        int r;
        try {
            r = (int) Api.cuMemcpyHtoD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemcpyHtoD_v2(" + bytes + " bytes)");
    }

    static void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        int r;
        try {
            r = (int) Api.cuMemcpyDtoH.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemcpyDtoH_v2(" + bytes + " bytes)");
    }

    static void memcpyDtoD(long dst, long src, long bytes) {
        int r;
        try {
            r = (int) Api.cuMemcpyDtoD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemcpyDtoD_v2(" + bytes + " bytes)");
    }

    public static void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemcpyHtoDAsync_v2(" + bytes + " bytes)");
    }

    public static void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemcpyDtoHAsync_v2(" + bytes + " bytes)");
    }

    public static void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemcpyDtoDAsync_v2(" + bytes + " bytes)");
    }

    static void memsetD8(long dst, byte value, long count) {
        int r;
        try {
            r = (int) Api.cuMemsetD8.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemsetD8_v2(" + count + " bytes)");
    }

    static void memsetD32(long dst, int value, long count) {
        int r;
        try {
            r = (int) Api.cuMemsetD32.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemsetD32_v2(" + count + " words)");
    }

    public static void memsetD8Async(long dst, byte value, long count, MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuMemsetD8Async.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemsetD8Async(" + count + " bytes)");
    }

    static void memsetD32Async(long dst, int value, long count, MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuMemsetD32Async.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuMemsetD32Async(" + count + " words)");
    }

    // ---- streams and events ---------------------------------------------------------------------------------------

    public static MemorySegment streamCreate(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cuStreamCreate.invokeExact(out, flags);
            if (r != CUDA_SUCCESS) throw failure(r, "cuStreamCreate(flags " + flags + ")");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void streamSynchronize(MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuStreamSynchronize");
    }

    public static void streamDestroy(MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuStreamDestroy.invokeExact(stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuStreamDestroy_v2");
    }

    public static MemorySegment eventCreate(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cuEventCreate.invokeExact(out, flags);
            if (r != CUDA_SUCCESS) throw failure(r, "cuEventCreate(flags " + flags + ")");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void eventRecord(MemorySegment event, MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuEventRecord.invokeExact(event, stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuEventRecord");
    }

    public static void eventSynchronize(MemorySegment event) {
        int r;
        try {
            r = (int) Api.cuEventSynchronize.invokeExact(event);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuEventSynchronize");
    }

    public static float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT);
            int r = (int) Api.cuEventElapsedTime.invokeExact(out, start, end);
            if (r != CUDA_SUCCESS) throw failure(r, "cuEventElapsedTime_v2");
            return out.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void eventDestroy(MemorySegment event) {
        int r;
        try {
            r = (int) Api.cuEventDestroy.invokeExact(event);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuEventDestroy_v2");
    }

    // ---- modules and launches -------------------------------------------------------------------------------------

    /**
     * Loads a fatbin/cubin/PTX image (native memory; the driver copies it). A failure carries the JIT's error log
     * (CU_JIT_ERROR_LOG_BUFFER), which is where a PTX compile error or an architecture mismatch is explained.
     */
    public static MemorySegment moduleLoadData(MemorySegment image, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment log = arena.allocate(JIT_LOG_BYTES); // zero-filled, so an unused log reads as ""
            MemorySegment options = arena.allocate(JAVA_INT, 2);
            options.setAtIndex(JAVA_INT, 0, CU_JIT_ERROR_LOG_BUFFER);
            options.setAtIndex(JAVA_INT, 1, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            MemorySegment values = arena.allocate(ADDRESS, 2);
            values.setAtIndex(ADDRESS, 0, log);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(JIT_LOG_BYTES)); // an unsigned int passed in the void*
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cuModuleLoadDataEx.invokeExact(out, image, 2, options, values);
            if (r != CUDA_SUCCESS) {
                String jitLog = log.getString(0).strip().replaceAll("\\s*\\n\\s*", " | ");
                throw new CudaException("cuModuleLoadDataEx(" + what + ")", r, errorName(r), errorString(r),
                        jitLog.isEmpty() ? "" : "; JIT error log: " + jitLog);
            }
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    /** The CUfunction, or NULL when the module has no kernel of that name (CUDA_ERROR_NOT_FOUND). */
    public static MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cuModuleGetFunction.invokeExact(out, module, arena.allocateFrom(name));
            if (r == CUDA_ERROR_NOT_FOUND) return MemorySegment.NULL;
            if (r != CUDA_SUCCESS) throw failure(r, "cuModuleGetFunction(" + name + ")");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    /**
     * The byte size of each parameter of a kernel, in order (cuFuncGetParamInfo, CUDA 12.4+): indices are asked
     * until the driver answers CUDA_ERROR_INVALID_VALUE, which it does for the first index past the last parameter.
     */
    public static long[] functionParamSizes(MemorySegment function, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment offset = arena.allocate(JAVA_LONG);
            MemorySegment size = arena.allocate(JAVA_LONG);
            long[] sizes = new long[0];
            for (long index = 0; ; index++) {
                int r = (int) Api.cuFuncGetParamInfo.invokeExact(function, index, offset, size);
                if (r == CUDA_ERROR_INVALID_VALUE) return sizes;
                if (r != CUDA_SUCCESS) throw failure(r, "cuFuncGetParamInfo(" + name + ", " + index + ")");
                sizes = java.util.Arrays.copyOf(sizes, sizes.length + 1);
                sizes[sizes.length - 1] = size.get(JAVA_LONG, 0);
            }
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void moduleUnload(MemorySegment module) {
        int r;
        try {
            r = (int) Api.cuModuleUnload.invokeExact(module);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuModuleUnload");
    }

    public static void launchKernel(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, MemorySegment stream,
                             MemorySegment kernelParams) {
        int r;
        try {
            r = (int) Api.cuLaunchKernel.invokeExact(function.handle(), grid.x(), grid.y(), grid.z(), block.x(), block.y(),
                    block.z(), sharedBytes, stream, kernelParams, MemorySegment.NULL);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) {
            throw failure(r, "cuLaunchKernel(" + function.name() + ", grid " + grid.x() + "x" + grid.y() + "x" + grid.z()
                    + ", block " + block.x() + "x" + block.y() + "x" + block.z() + ", " + sharedBytes + " B shared)");
        }
    }

    // ---- graphs ---------------------------------------------------------------------------------------------------

    public static void streamBeginCapture(MemorySegment stream, int mode) {
        int r;
        try {
            r = (int) Api.cuStreamBeginCapture.invokeExact(stream, mode);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuStreamBeginCapture_v2(mode " + mode + ")");
    }

    /**
     * Ends a capture. Returns the CUgraph, or throws; when the capture was invalidated the driver may still hand back
     * a graph, which this destroys before throwing.
     */
    public static MemorySegment streamEndCapture(MemorySegment stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cuStreamEndCapture.invokeExact(stream, out);
            MemorySegment graph = out.get(ADDRESS, 0);
            if (r != CUDA_SUCCESS) {
                if (!graph.equals(MemorySegment.NULL)) graphDestroy(graph);
                throw failure(r, "cuStreamEndCapture");
            }
            return graph;
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    /** CUstreamCaptureStatus: not capturing. */
    public static final int CU_STREAM_CAPTURE_STATUS_NONE = 0;

    /** cuStreamIsCapturing: NONE, ACTIVE (1), or INVALIDATED (2: still to be ended with cuStreamEndCapture). */
    public static int streamCaptureStatus(MemorySegment stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int r = (int) Api.cuStreamIsCapturing.invokeExact(stream, out);
            if (r != CUDA_SUCCESS) throw failure(r, "cuStreamIsCapturing");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static MemorySegment graphInstantiate(MemorySegment graph) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) Api.cuGraphInstantiateWithFlags.invokeExact(out, graph, 0L);
            if (r != CUDA_SUCCESS) throw failure(r, "cuGraphInstantiateWithFlags");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
    }

    public static void graphLaunch(MemorySegment exec, MemorySegment stream) {
        int r;
        try {
            r = (int) Api.cuGraphLaunch.invokeExact(exec, stream);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuGraphLaunch");
    }

    public static void graphExecDestroy(MemorySegment exec) {
        int r;
        try {
            r = (int) Api.cuGraphExecDestroy.invokeExact(exec);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuGraphExecDestroy");
    }

    public static void graphDestroy(MemorySegment graph) {
        int r;
        try {
            r = (int) Api.cuGraphDestroy.invokeExact(graph);
        } catch (Throwable t) {
            throw NativeBindings.propagate(t);
        }
        if (r != CUDA_SUCCESS) throw failure(r, "cuGraphDestroy");
    }
}
