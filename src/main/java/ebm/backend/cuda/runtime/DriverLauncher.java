package ebm.backend.cuda.runtime;

import ebm.EbmException;
import ebm.backend.cuda.bindings.CudaDriver;
import ebm.backend.cuda.bindings.CudaException;
import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs kernels/ on a GPU through the driver API: device 0 (or {@code EBM_CUDA_DEVICE}), its primary context, one
 * non-blocking stream, the module loaded from the fatbin ({@link GpuKernelModule}). Every operation is ordered on
 * that stream: copies are cuMemcpy*Async_v2 on it followed by a stream synchronisation, so they also wait for the
 * kernels queued before them (the synchronous cuMemcpy*_v2 run on the legacy default stream, which a non-blocking
 * stream does not wait for). {@link #launch} waits for the kernel; {@link #launchAsync} only queues it.
 *
 * <p>Device memory is tracked: {@link #close()} frees whatever is still allocated, and {@link #memoryUse()} reports
 * the bytes ebm holds (own accounting) and the device's bytes in use from cuMemGetInfo (which also counts the
 * context, cuBLAS and other processes), each with its peak as sampled after every allocation.
 *
 * <p>The context is made current on whichever thread calls (cuCtxSetCurrent once per thread and launcher), so the
 * launcher may be used from several threads, though not concurrently: calls are not synchronised with each other.
 */
public final class DriverLauncher implements KernelLauncher {
    public static final String DEVICE_ENV = "EBM_CUDA_DEVICE";

    /** The context each thread last made current through a launcher (identity: each launcher's own segment). */
    private static final ThreadLocal<MemorySegment> CURRENT = new ThreadLocal<>();

    private record Allocation(String label, long bytes) {}

    /** Bytes ebm holds and the device's bytes in use (cuMemGetInfo: total − free), now and at the peak. */
    public record MemoryUse(long bytesAllocated, long peakBytesAllocated, int allocations, long deviceBytesInUse,
                            long peakDeviceBytesInUse, long deviceTotalBytes) {}

    private final CudaDriver.Device device;
    private final int cuDevice;
    private final int driverVersion;
    private final Path modulePath;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final MemorySegment module;
    private final Map<String, long[]> paramSizes = new ConcurrentHashMap<>();
    private final Map<String, KernelFunction> functions = new ConcurrentHashMap<>();
    private final Map<Long, Allocation> allocations = new LinkedHashMap<>();
    private final Map<MemorySegment, Boolean> pinned = new IdentityHashMap<>();
    private final Set<CudaGraph> graphs = ConcurrentHashMap.newKeySet();
    private long bytesAllocated;
    private long peakBytesAllocated;
    private long peakDeviceBytesInUse;
    private volatile boolean capturing;
    private volatile boolean closed;

    /** Device {@code EBM_CUDA_DEVICE} (default 0) and the fatbin at {@link GpuKernelModule#location()}. */
    public DriverLauncher() {
        this(selectedOrdinalFromEnvironment(), GpuKernelModule.location());
    }

    public DriverLauncher(int ordinal, Path fatbin) {
        if (!Files.isRegularFile(fatbin)) {
            throw new EbmException("GPU kernel module " + fatbin + " not found; build it with " + GpuKernelModule.BUILD_COMMAND);
        }
        CudaDriver.init();
        int count = CudaDriver.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new EbmException(DEVICE_ENV + " selects CUDA device " + ordinal + ", but the driver reports " + count
                    + " device" + (count == 1 ? "" : "s") + (count > 0 ? " (0.." + (count - 1) + ")" : ""));
        }
        this.device = CudaDriver.deviceInfo(ordinal);
        this.cuDevice = CudaDriver.device(ordinal);
        this.driverVersion = CudaDriver.driverVersion();
        this.modulePath = fatbin;
        this.context = CudaDriver.primaryContextRetain(cuDevice);
        MemorySegment createdStream = null;
        try {
            CudaDriver.contextSetCurrent(context);
            CURRENT.set(context);
            createdStream = CudaDriver.streamCreate(CudaDriver.CU_STREAM_NON_BLOCKING);
            this.stream = createdStream;
            this.module = loadModule(fatbin);
        } catch (RuntimeException | Error e) {
            try {
                if (createdStream != null) CudaDriver.streamDestroy(createdStream);
                CudaDriver.primaryContextRelease(cuDevice);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            CURRENT.remove();
            throw e;
        }
    }

    /** The device ordinal {@code EBM_CUDA_DEVICE} selects in this process's environment (default 0). */
    public static int selectedOrdinalFromEnvironment() {
        return selectedOrdinal(System.getenv());
    }

    /** {@code EBM_CUDA_DEVICE} from this environment, default 0; an EbmException for anything but a number ≥ 0. */
    static int selectedOrdinal(Map<String, String> env) {
        String value = env.get(DEVICE_ENV);
        if (value == null || value.isBlank()) return 0;
        try {
            int ordinal = Integer.parseInt(value.strip());
            if (ordinal >= 0) return ordinal;
        } catch (NumberFormatException notANumber) {
            // reported below
        }
        throw new EbmException(DEVICE_ENV + "=" + value + " is not a device number (0, 1, ...)");
    }

    private static MemorySegment loadModule(Path fatbin) {
        byte[] image;
        try {
            image = Files.readAllBytes(fatbin);
        } catch (IOException e) {
            throw new EbmException("cannot read GPU kernel module " + fatbin + ": " + e.getMessage(), e);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native_ = arena.allocate(image.length + 1L, 16);
            MemorySegment.copy(MemorySegment.ofArray(image), 0, native_, 0, image.length);
            return CudaDriver.moduleLoadData(native_, fatbin.toString());
        }
    }

    /** Makes this launcher's context current on the calling thread (once per thread; a TLS write in the driver). */
    void makeCurrent() {
        if (closed) throw new IllegalStateException("the GPU launcher is closed");
        if (CURRENT.get() != context) {
            CudaDriver.contextSetCurrent(context);
            CURRENT.set(context);
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** The stream every operation of this launcher (and of a CublasBlas on it) is queued on. */
    MemorySegment stream() {
        return stream;
    }

    public CudaDriver.Device device() {
        return device;
    }

    /** The driver's CUDA version, "13.0". */
    public String driverVersion() {
        return CudaDriver.formatVersion(driverVersion);
    }

    @Override
    public String description() {
        return device.name() + " (device " + device.ordinal() + ", sm_" + device.major() + device.minor() + ", "
                + device.multiprocessors() + " SMs, CUDA driver " + driverVersion() + ")";
    }

    // ---- kernels --------------------------------------------------------------------------------------------------

    @Override
    public KernelFunction function(String name) {
        KernelFunction cached = functions.get(name);
        if (cached != null) return cached;
        makeCurrent();
        MemorySegment handle = CudaDriver.moduleGetFunction(module, name);
        if (handle.equals(MemorySegment.NULL)) {
            throw new EbmException("kernel '" + name + "' is not in the GPU module " + modulePath + " (rebuild it with "
                    + GpuKernelModule.BUILD_COMMAND + ")");
        }
        paramSizes.put(name, CudaDriver.functionParamSizes(handle, name));
        KernelFunction function = new KernelFunction(name, handle);
        functions.put(name, function);
        return function;
    }

    /**
     * Queues the kernel and waits for it. Inside {@link #capture} nothing runs while recording, so there it only
     * records the launch (a stream synchronisation would invalidate the capture).
     */
    @Override
    public void launch(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        launchAsync(function, grid, block, sharedBytes, args);
        if (!capturing) synchronize();
    }

    /** Queues the kernel on the launcher's stream and returns; the args may be closed once this returns. */
    @Override
    public void launchAsync(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        makeCurrent();
        checkArguments(function, args);
        CudaDriver.launchKernel(function, grid, block, sharedBytes, stream, args.kernelParams());
    }

    private void checkArguments(KernelFunction function, KernelArgs args) {
        long[] sizes = paramSizes.get(function.name());
        if (sizes == null) throw new IllegalArgumentException("kernel " + function.name() + " was not looked up through this launcher");
        if (sizes.length != args.count()) {
            throw new IllegalArgumentException("kernel " + function.name() + " takes " + sizes.length + " arguments, got " + args.count());
        }
        for (int k = 0; k < sizes.length; k++) {
            if (sizes[k] != args.slotBytes(k)) {
                throw new IllegalArgumentException("kernel " + function.name() + ": argument " + k + " is " + sizes[k]
                        + " bytes, got a " + args.slotBytes(k) + "-byte value (sizes " + Arrays.toString(sizes) + ")");
            }
        }
    }

    /** Waits for everything queued on the launcher's stream; a kernel's asynchronous fault surfaces here. */
    @Override
    public void synchronize() {
        makeCurrent();
        CudaDriver.streamSynchronize(stream);
    }

    // ---- memory ---------------------------------------------------------------------------------------------------

    @Override
    public DeviceBuffer allocate(long bytes) {
        return allocate(bytes, "unnamed buffer");
    }

    /**
     * cuMemAlloc_v2, tracked. Running out of memory is a CudaException naming the label, how much the device has
     * free and ebm holds, and the config keys to reduce.
     */
    public DeviceBuffer allocate(long bytes, String label) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation for '" + label + "': " + bytes);
        makeCurrent();
        long address;
        try {
            address = CudaDriver.memAlloc(Math.max(bytes, 1), label);
        } catch (CudaException e) {
            if (e.code() != CudaDriver.CUDA_ERROR_OUT_OF_MEMORY) throw e;
            long free = -1, total = -1;
            try {
                long[] info = CudaDriver.memoryInfo();
                free = info[0];
                total = info[1];
            } catch (RuntimeException unavailable) {
                e.addSuppressed(unavailable);
            }
            CudaException oom;
            synchronized (this) {
                oom = CudaException.outOfMemory(e.call(), e.code(), e.errorName(), CudaDriver.errorString(e.code()),
                        bytesAllocated, allocations.size(), free, total);
            }
            oom.addSuppressed(e);
            throw oom;
        }
        long[] info = CudaDriver.memoryInfo();
        synchronized (this) {
            allocations.put(address, new Allocation(label, bytes));
            bytesAllocated += bytes;
            peakBytesAllocated = Math.max(peakBytesAllocated, bytesAllocated);
            peakDeviceBytesInUse = Math.max(peakDeviceBytesInUse, info[1] - info[0]);
        }
        return new DeviceBuffer(address, bytes);
    }

    /** Frees a buffer this launcher allocated (after the work queued on its stream finished). */
    @Override
    public void free(DeviceBuffer buffer) {
        Allocation allocation;
        synchronized (this) {
            allocation = allocations.remove(buffer.address());
            if (allocation == null) {
                throw new IllegalArgumentException("0x" + Long.toHexString(buffer.address()) + " is not a live allocation of this launcher");
            }
            bytesAllocated -= allocation.bytes();
        }
        makeCurrent();
        CudaDriver.streamSynchronize(stream);
        CudaDriver.memFree(buffer.address());
    }

    /** Now and at the peak: ebm's own bytes and the device's bytes in use (cuMemGetInfo, sampled now). */
    public synchronized MemoryUse memoryUse() {
        makeCurrent();
        long[] info = CudaDriver.memoryInfo();
        long inUse = info[1] - info[0];
        peakDeviceBytesInUse = Math.max(peakDeviceBytesInUse, inUse);
        return new MemoryUse(bytesAllocated, peakBytesAllocated, allocations.size(), inUse, peakDeviceBytesInUse, info[1]);
    }

    /** Page-locked host memory for asynchronous copies; freed by {@link #freePinned} or close. */
    public MemorySegment allocatePinned(long bytes) {
        makeCurrent();
        MemorySegment segment = CudaDriver.memAllocHost(Math.max(bytes, 1)).reinterpret(bytes);
        synchronized (this) {
            pinned.put(segment, Boolean.TRUE);
        }
        return segment;
    }

    public void freePinned(MemorySegment segment) {
        synchronized (this) {
            if (pinned.remove(segment) == null) throw new IllegalArgumentException("not pinned memory of this launcher");
        }
        makeCurrent();
        CudaDriver.streamSynchronize(stream);
        CudaDriver.memFreeHost(segment);
    }

    private static void checkFits(long copy, long buffer, String direction) {
        if (copy > buffer) throw new IllegalArgumentException("copy of " + copy + " bytes " + direction + " a " + buffer + "-byte buffer");
    }

    @Override
    public void copyToDevice(MemorySegment src, DeviceBuffer dst) {
        copyWaiting(src, dst, true, (host, n) -> CudaDriver.memcpyHtoDAsync(dst.address(), host, n, stream));
    }

    @Override
    public void copyToHost(DeviceBuffer src, MemorySegment dst) {
        copyWaiting(dst, src, false, (host, n) -> CudaDriver.memcpyDtoHAsync(host, src.address(), n, stream));
    }

    /** One copy queued between host memory and a device buffer, given the host side as the driver may read it. */
    @FunctionalInterface
    private interface HostCopy {
        void queue(MemorySegment host, long bytes);
    }

    /**
     * Copies all of `host` to the start of `device` (toDevice) or the start of `device` into all of `host`, and waits.
     * A heap array cannot be handed to the driver, so one is staged through native memory: filled from it before the
     * copy (toDevice), or copied into it after.
     */
    private void copyWaiting(MemorySegment host, DeviceBuffer device, boolean toDevice, HostCopy copy) {
        long n = host.byteSize();
        checkFits(n, device.bytes(), toDevice ? "into" : "out of");
        if (n == 0) return;
        makeCurrent();
        if (host.isNative()) {
            copy.queue(host, n);
            CudaDriver.streamSynchronize(stream);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(n, 16);
            if (toDevice) MemorySegment.copy(host, 0, staging, 0, n);
            copy.queue(staging, n);
            CudaDriver.streamSynchronize(stream);
            if (!toDevice) MemorySegment.copy(staging, 0, host, 0, n);
        }
    }

    /** Queues a host-to-device copy from native (ideally pinned) memory that must stay valid until it runs. */
    public void copyToDeviceAsync(MemorySegment nativeSrc, DeviceBuffer dst) {
        if (!nativeSrc.isNative()) throw new IllegalArgumentException("asynchronous copies need native (pinned) host memory");
        checkFits(nativeSrc.byteSize(), dst.bytes(), "into");
        makeCurrent();
        CudaDriver.memcpyHtoDAsync(dst.address(), nativeSrc, nativeSrc.byteSize(), stream);
    }

    /** Queues a device-to-host copy into native (ideally pinned) memory; read it after {@link #synchronize()}. */
    public void copyToHostAsync(DeviceBuffer src, MemorySegment nativeDst) {
        if (!nativeDst.isNative()) throw new IllegalArgumentException("asynchronous copies need native (pinned) host memory");
        checkFits(nativeDst.byteSize(), src.bytes(), "out of");
        makeCurrent();
        CudaDriver.memcpyDtoHAsync(nativeDst, src.address(), nativeDst.byteSize(), stream);
    }

    /** Queues a device-to-device copy of src's first {@code bytes} bytes into dst. */
    public void copyAsync(DeviceBuffer src, DeviceBuffer dst, long bytes) {
        checkFits(bytes, Math.min(src.bytes(), dst.bytes()), "between");
        makeCurrent();
        CudaDriver.memcpyDtoDAsync(dst.address(), src.address(), bytes, stream);
    }

    /** Queues zeroing of the whole buffer (cuMemsetD8Async on the stream: ordered with the kernels, capturable). */
    public void zeroAsync(DeviceBuffer buffer) {
        makeCurrent();
        CudaDriver.memsetD8Async(buffer.address(), (byte) 0, buffer.bytes(), stream);
    }

    // ---- graphs and timing ----------------------------------------------------------------------------------------

    /**
     * Records what {@code body} queues on the launcher's stream into a CUDA graph and instantiates it. Launches inside
     * are recorded, not run, with their arguments baked in: values that change per replay must be read from device
     * memory by the kernels. Capture mode THREAD_LOCAL: this thread may not make calls that cannot be captured (an
     * allocation or a synchronous copy inside the body is an error instead of an operation that silently would not
     * be replayed, as RELAXED would allow), while other threads, which may be using the GPU for unrelated work (an
     * evaluation, another launcher), are not restricted as GLOBAL mode would restrict them.
     *
     * <p>However it fails (the body throws, or the driver refuses to begin, end or instantiate), the stream is left
     * out of capture mode, so that the caller can run the same work eagerly on it: a capture the failed end left
     * open is ended again and its graph dropped. Nothing recorded has run.
     */
    public CudaGraph capture(Runnable body) {
        makeCurrent();
        CudaDriver.streamBeginCapture(stream, CudaDriver.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        capturing = true;
        MemorySegment graph;
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            capturing = false;
            try {
                CudaDriver.graphDestroy(CudaDriver.streamEndCapture(stream));
            } catch (RuntimeException endFailed) {
                e.addSuppressed(endFailed);
            }
            endIfStillCapturing(e);
            throw e;
        }
        capturing = false;
        try {
            graph = CudaDriver.streamEndCapture(stream);
        } catch (RuntimeException e) {
            endIfStillCapturing(e);
            throw e;
        }
        MemorySegment exec;
        try {
            exec = CudaDriver.graphInstantiate(graph);
        } catch (RuntimeException e) {
            CudaDriver.graphDestroy(graph);
            throw e;
        }
        CudaGraph captured = new CudaGraph(this, graph, exec);
        graphs.add(captured);
        return captured;
    }

    /**
     * After a failed capture: a stream still capturing (a refused cuStreamEndCapture can leave it so) would record
     * the eager work that follows instead of running it, so end that capture and destroy what it recorded. Its own
     * failures are added to the capture's.
     */
    private void endIfStillCapturing(Throwable failure) {
        try {
            if (CudaDriver.streamCaptureStatus(stream) != CudaDriver.CU_STREAM_CAPTURE_STATUS_NONE) {
                MemorySegment abandoned = CudaDriver.streamEndCapture(stream);
                if (!abandoned.equals(MemorySegment.NULL)) CudaDriver.graphDestroy(abandoned);
            }
        } catch (RuntimeException cleanup) {
            failure.addSuppressed(cleanup);
        }
    }

    void forget(CudaGraph graph) {
        graphs.remove(graph);
    }

    /** GPU time of what {@code body} queues on the stream (cuEventElapsedTime_v2 between two events), in ms. */
    @Override
    public float elapsedMillis(Runnable body) {
        makeCurrent();
        MemorySegment start = CudaDriver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        MemorySegment end = null;
        try {
            end = CudaDriver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
            CudaDriver.eventRecord(start, stream);
            body.run();
            CudaDriver.eventRecord(end, stream);
            CudaDriver.eventSynchronize(end);
            return CudaDriver.eventElapsedMillis(start, end);
        } finally {
            CudaDriver.eventDestroy(start);
            if (end != null) CudaDriver.eventDestroy(end);
        }
    }

    // ---- teardown -------------------------------------------------------------------------------------------------

    /**
     * Waits for the stream, destroys the graphs still open, frees every allocation and pinned buffer, unloads the
     * module, destroys the stream and releases the primary context. Tries every step; the first failure is thrown
     * with the others suppressed. Closing twice does nothing.
     */
    @Override
    public void close() {
        if (closed) return;
        List<RuntimeException> failures = new ArrayList<>();
        attempt(failures, this::synchronize);
        for (CudaGraph graph : List.copyOf(graphs)) attempt(failures, graph::close);
        List<Long> addresses;
        List<MemorySegment> hostBuffers;
        synchronized (this) {
            addresses = List.copyOf(allocations.keySet());
            hostBuffers = List.copyOf(pinned.keySet());
            allocations.clear();
            pinned.clear();
            bytesAllocated = 0;
        }
        attempt(failures, this::makeCurrent);
        for (long address : addresses) attempt(failures, () -> CudaDriver.memFree(address));
        for (MemorySegment segment : hostBuffers) attempt(failures, () -> CudaDriver.memFreeHost(segment));
        attempt(failures, () -> CudaDriver.moduleUnload(module));
        attempt(failures, () -> CudaDriver.streamDestroy(stream));
        closed = true;
        attempt(failures, () -> CudaDriver.primaryContextRelease(cuDevice));
        CURRENT.remove();
        if (!failures.isEmpty()) {
            RuntimeException first = failures.getFirst();
            for (RuntimeException other : failures.subList(1, failures.size())) first.addSuppressed(other);
            throw first;
        }
    }

    private static void attempt(List<RuntimeException> failures, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }
}
