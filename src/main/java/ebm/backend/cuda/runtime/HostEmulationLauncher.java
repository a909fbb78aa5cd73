package ebm.backend.cuda.runtime;

import ebm.EbmException;
import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Runs kernels/ through its host build (native-build/host: on the calling thread, blocks in turn, each CUDA thread
 * a cooperative fiber that yields at __syncthreads and warp shuffles), so CI checks every custom kernel without a
 * GPU, through the same {@link KernelLauncher} path the GPU uses. "Device" memory is native host memory owned by
 * this launcher and freed when it closes. A kernel that misuses a barrier or shuffle (a thread exits while others
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

    private final Arena deviceMemory = Arena.ofShared();

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
        MemorySegment segment = deviceMemory.allocate(Math.max(bytes, 1), 256); // cudaMalloc aligns to 256 too
        return new DeviceBuffer(segment.address(), bytes);
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

    @Override
    public void close() {
        deviceMemory.close();
    }
}
