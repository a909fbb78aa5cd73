package ebm.backend.cuda.step;

import ebm.EbmException;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.config.BackendKind;

/**
 * Opens what `backend: cuda` and `backend: cuda-emulated` run on: a kernel launcher and a {@link Blas}.
 * `cuda` is a GPU through the driver API and cuBLAS, and is an error naming the reason when there is none (never a
 * silent fallback); `cuda-emulated` runs the same kernels through their host build and the GEMMs through a host
 * GEMM with cuBLAS's semantics — slow, but it checks the GPU code path on any machine.
 */
public final class CudaBackends {
    private static final java.util.concurrent.atomic.AtomicLong OPENED = new java.util.concurrent.atomic.AtomicLong();

    private CudaBackends() {}

    /** Runtimes opened so far in this process (on a GPU each is a context, a module load and a cuBLAS handle). */
    public static long runtimesOpened() {
        return OPENED.get();
    }

    /** A launcher and BLAS that belong together; closing it closes both. */
    public record Runtime(KernelLauncher launcher, Blas blas, String description) implements AutoCloseable {
        @Override
        public void close() {
            blas.close();
            launcher.close();
        }
    }

    public static Runtime open(BackendKind backend) {
        return open(backend, Blas.GemmPrecision.FP32);
    }

    /** The config's `precision` (fp32, tf32, bf16) as a GEMM mode; an error naming the key otherwise. */
    public static Blas.GemmPrecision precision(String name) {
        for (Blas.GemmPrecision p : Blas.GemmPrecision.values()) {
            if (p.name().equalsIgnoreCase(name)) return p;
        }
        throw new EbmException("precision: '" + name + "' is not allowed; allowed: fp32, tf32, bf16");
    }

    /** `cuda-emulated` on the given host launcher (`ebm validate` passes one that compares schedules). */
    public static Runtime emulated(HostEmulationLauncher launcher, Blas.GemmPrecision precision) {
        HostBlas blas = new HostBlas(precision);
        return new Runtime(launcher, blas, "cuda-emulated: " + launcher.description() + ", " + blas.description());
    }

    /** As {@link #open(BackendKind)}, with the GEMMs in the given mode (elementwise kernels stay fp32). */
    public static Runtime open(BackendKind backend, Blas.GemmPrecision precision) {
        Runtime runtime = switch (backend) {
            case CUDA_EMULATED -> emulated(new HostEmulationLauncher(), precision);
            case CUDA -> {
                GpuRuntime.unavailableReason().ifPresent(reason -> {
                    throw new EbmException("backend cuda: " + reason + "; backend: cuda-emulated runs the CUDA code "
                            + "path through its host build");
                });
                GpuRuntime gpu = GpuRuntime.open(precision);
                yield new Runtime(gpu.launcher(), gpu.blas(), gpu.launcher().description() + ", " + gpu.blas().description());
            }
            case CPU -> throw new IllegalArgumentException("not a CUDA backend: " + backend);
        };
        OPENED.incrementAndGet();
        return runtime;
    }
}
