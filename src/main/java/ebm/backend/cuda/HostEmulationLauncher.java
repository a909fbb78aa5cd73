package ebm.backend.cuda;

import ebm.EbmException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs kernels/ through its host build (native-build/host: on the calling thread, blocks in turn, each CUDA thread
 * a cooperative fiber that yields at __syncthreads and warp shuffles), so CI checks every custom kernel without a
 * GPU, through the same {@link KernelLauncher} path the GPU uses. "Device" memory is native host memory (256-aligned,
 * zeroed) owned by this launcher: {@link #free} returns a buffer, and close frees what is left. A kernel that misuses a barrier or shuffle (a thread exits while others
 * wait at __syncthreads, ...) fails its launch with an IllegalStateException saying which thread and where.
 */
public final class HostEmulationLauncher implements KernelLauncher {

    /** The shim's entry points, bound once (static finals, so invokeExact call sites are constant). */
    private static final class Shim {
        static final MethodHandle GET_FUNCTION;
        static final MethodHandle PARAM_COUNT;
        static final MethodHandle LAST_ERROR;
        static final MethodHandle LAUNCH_KERNEL;

        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup library = SymbolLookup.libraryLookup(HostKernelLibrary.location(), Arena.global());
            GET_FUNCTION = linker.downcallHandle(library.findOrThrow("ebm_host_get_function"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            PARAM_COUNT = linker.downcallHandle(library.findOrThrow("ebm_host_function_param_count"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            LAST_ERROR = linker.downcallHandle(library.findOrThrow("ebm_host_last_error"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            ValueLayout u32 = ValueLayout.JAVA_INT;
            LAUNCH_KERNEL = linker.downcallHandle(library.findOrThrow("ebm_host_launch_kernel"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, u32, u32, u32, u32, u32, u32, u32,
                            ValueLayout.ADDRESS));
        }
    }

    /** libc's aligned_alloc and free: each buffer on its own, so that one can be freed before the launcher closes. */
    private static final class Libc {
        static final MethodHandle ALIGNED_ALLOC;
        static final MethodHandle FREE;

        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            ALIGNED_ALLOC = linker.downcallHandle(libc.findOrThrow("aligned_alloc"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            FREE = linker.downcallHandle(libc.findOrThrow("free"), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        }
    }

    private static final long ALIGNMENT = 256; // cudaMalloc aligns to 256 too

    /** Live buffers: address → bytes asked for. */
    private final Map<Long, Long> allocations = new LinkedHashMap<>();
    private boolean closed;

    /** Loads the host build; a one-line EbmException naming the missing file and its build command if absent. */
    public HostEmulationLauncher() {
        HostKernelLibrary.missingReason().ifPresent(reason -> {
            throw new EbmException(reason);
        });
    }

    @Override
    public String description() {
        return "host emulation of kernels/ (" + HostKernelLibrary.location().getFileName() + ", blocks in turn, CUDA threads as fibers)";
    }

    @Override
    public KernelFunction function(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) Shim.GET_FUNCTION.invokeExact(arena.allocateFrom(name));
            if (handle.equals(MemorySegment.NULL)) {
                throw new EbmException("kernel '" + name + "' is not in the host kernel library " + HostKernelLibrary.location()
                        + " (rebuild it with " + HostKernelLibrary.BUILD_COMMAND + ")");
            }
            return new KernelFunction(name, handle);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("ebm_host_get_function failed", t);
        }
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation: " + bytes);
        long rounded = (Math.max(bytes, 1) + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT; // aligned_alloc wants a multiple
        MemorySegment segment;
        try {
            segment = (MemorySegment) Libc.ALIGNED_ALLOC.invokeExact(ALIGNMENT, rounded);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed", t);
        }
        if (segment.equals(MemorySegment.NULL)) throw new OutOfMemoryError("host emulation: no " + rounded + " bytes of native memory");
        segment.reinterpret(rounded).fill((byte) 0); // as the shared arena this replaced did: zeroed
        synchronized (this) {
            if (closed) {
                freeNative(segment.address());
                throw new IllegalStateException("the host emulation launcher is closed");
            }
            allocations.put(segment.address(), bytes);
        }
        return new DeviceBuffer(segment.address(), bytes);
    }

    @Override
    public void free(DeviceBuffer buffer) {
        synchronized (this) {
            if (allocations.remove(buffer.address()) == null) {
                throw new IllegalArgumentException("0x" + Long.toHexString(buffer.address()) + " is not a live allocation of this launcher");
            }
        }
        freeNative(buffer.address());
    }

    /** Buffers allocated and not yet freed (what close would free now). */
    public synchronized int liveAllocations() {
        return allocations.size();
    }

    /** Bytes of those buffers, as asked for. */
    public synchronized long bytesAllocated() {
        long total = 0;
        for (long b : allocations.values()) total += b;
        return total;
    }

    private static void freeNative(long address) {
        try {
            Libc.FREE.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }

    private static MemorySegment view(DeviceBuffer buffer) {
        return MemorySegment.ofAddress(buffer.address()).reinterpret(buffer.bytes());
    }

    @Override
    public void copyToDevice(MemorySegment src, DeviceBuffer dst) {
        if (src.byteSize() > dst.bytes()) {
            throw new IllegalArgumentException("copy of " + src.byteSize() + " bytes into a " + dst.bytes() + "-byte buffer");
        }
        MemorySegment.copy(src, 0, view(dst), 0, src.byteSize());
    }

    @Override
    public void copyToHost(DeviceBuffer src, MemorySegment dst) {
        if (dst.byteSize() > src.bytes()) {
            throw new IllegalArgumentException("copy of " + dst.byteSize() + " bytes out of a " + src.bytes() + "-byte buffer");
        }
        MemorySegment.copy(view(src), 0, dst, 0, dst.byteSize());
    }

    @Override
    public void launch(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        int status;
        try {
            int expected = (int) Shim.PARAM_COUNT.invokeExact(function.handle());
            if (expected != args.count()) {
                throw new IllegalArgumentException("kernel " + function.name() + " takes " + expected + " arguments, got " + args.count());
            }
            status = (int) Shim.LAUNCH_KERNEL.invokeExact(function.handle(), grid.x(), grid.y(), grid.z(), block.x(),
                    block.y(), block.z(), sharedBytes, args.kernelParams());
            if (status != 0) {
                MemorySegment message = (MemorySegment) Shim.LAST_ERROR.invokeExact();
                throw new IllegalStateException("host launch of " + function.name() + " failed (" + status + "): "
                        + message.reinterpret(4096).getString(0));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("host launch of " + function.name() + " failed", t);
        }
    }

    /** Frees every buffer still allocated; closing twice does nothing. */
    @Override
    public void close() {
        List<Long> addresses;
        synchronized (this) {
            if (closed) return;
            closed = true;
            addresses = List.copyOf(allocations.keySet());
            allocations.clear();
        }
        for (long address : addresses) freeNative(address);
    }
}
