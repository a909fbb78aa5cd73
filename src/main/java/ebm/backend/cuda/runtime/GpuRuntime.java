package ebm.backend.cuda.runtime;

import ebm.EbmException;
import ebm.backend.cuda.bindings.CudaDriver;
import ebm.backend.cuda.bindings.CudaLibraries;
import java.util.Optional;

/**
 * The one place that says whether the GPU path can run and opens it: a {@link DriverLauncher} (device, primary
 * context, stream, kernel module) and a {@link CublasBlas} on the same stream. The training backend and
 * {@code ebm validate} ask here; asking for the GPU where it cannot run is an error that says why, never a fallback.
 */
public final class GpuRuntime implements AutoCloseable {
    private final DriverLauncher launcher;
    private final CublasBlas blas;

    private GpuRuntime(DriverLauncher launcher, CublasBlas blas) {
        this.launcher = launcher;
        this.blas = blas;
    }

    /**
     * Empty when {@link #open()} can work; otherwise one sentence: no libcuda (and where it looked), cuInit failed,
     * no device (or EBM_CUDA_DEVICE out of range), no kernel fatbin (and how to build it), no cuBLAS.
     */
    public static Optional<String> unavailableReason() {
        Optional<String> device = deviceUnavailableReason();
        if (device.isPresent()) return device;
        Optional<String> module = GpuKernelModule.missingReason();
        if (module.isPresent()) return module;
        CudaLibraries.Location cublas = CudaLibraries.system().cublas();
        if (!cublas.found()) return Optional.of(cublas.problem());
        return Optional.empty();
    }

    /**
     * Whether there is a GPU at all (a driver that initialises and the selected device), regardless of ebm's own
     * pieces (fatbin, cuBLAS). GPU tests run when this is empty and then fail, not skip, if a piece is missing.
     */
    public static Optional<String> deviceUnavailableReason() {
        CudaLibraries.Location cuda = CudaLibraries.system().cuda();
        if (!cuda.found()) return Optional.of("no GPU: " + cuda.problem());
        try {
            CudaDriver.init();
            int count = CudaDriver.deviceCount();
            if (count == 0) return Optional.of("no GPU: the CUDA driver (" + cuda.where() + ") reports no devices; " + CudaLibraries.CPU_HINT);
            int ordinal = DriverLauncher.selectedOrdinal(System.getenv());
            if (ordinal >= count) {
                return Optional.of(DriverLauncher.DEVICE_ENV + " selects CUDA device " + ordinal + ", but the driver reports "
                        + count + " device" + (count == 1 ? "" : "s"));
            }
        } catch (EbmException e) {
            return Optional.of("no usable GPU: " + e.getMessage() + "; " + CudaLibraries.CPU_HINT);
        }
        return Optional.empty();
    }

    /** The launcher and fp32 cuBLAS. */
    public static GpuRuntime open() {
        return open(Blas.GemmPrecision.FP32);
    }

    /** The launcher and cuBLAS at this GEMM precision; an EbmException with {@link #unavailableReason()} if none. */
    public static GpuRuntime open(Blas.GemmPrecision precision) {
        unavailableReason().ifPresent(reason -> {
            throw new EbmException(reason);
        });
        DriverLauncher launcher = new DriverLauncher();
        try {
            return new GpuRuntime(launcher, new CublasBlas(launcher, precision));
        } catch (RuntimeException | Error e) {
            try {
                launcher.close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    public DriverLauncher launcher() {
        return launcher;
    }

    public CublasBlas blas() {
        return blas;
    }

    /** cuBLAS first (its workspace belongs to the launcher), then the launcher. */
    @Override
    public void close() {
        try {
            blas.close();
        } finally {
            launcher.close();
        }
    }
}
