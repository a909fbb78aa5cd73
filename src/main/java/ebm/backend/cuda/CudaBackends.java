package ebm.backend.cuda;

import ebm.EbmException;

/**
 * Opens what `backend: cuda` and `backend: cuda-emulated` run on: a kernel launcher and a {@link Blas}.
 * `cuda` is a GPU through the driver API and cuBLAS, and is an error naming the reason when there is none (never a
 * silent fallback); `cuda-emulated` runs the same kernels through their host build and the GEMMs through a host
 * GEMM with cuBLAS's semantics — slow, but it checks the GPU code path on any machine.
 */
public final class CudaBackends {
    private CudaBackends() {}

    /** A launcher and BLAS that belong together; closing it closes both. */
    public record Runtime(KernelLauncher launcher, Blas blas, String description) implements AutoCloseable {
        @Override
        public void close() {
            blas.close();
            launcher.close();
        }
    }

    public static Runtime open(String backend) {
        return switch (backend) {
            case "cuda-emulated" -> {
                HostEmulationLauncher launcher = new HostEmulationLauncher();
                yield new Runtime(launcher, new HostBlas(Blas.GemmPrecision.FP32), "cuda-emulated: " + launcher.description());
            }
            case "cuda" -> {
                GpuRuntime.unavailableReason().ifPresent(reason -> {
                    throw new EbmException("backend cuda: " + reason + "; backend: cuda-emulated runs the CUDA code "
                            + "path through its host build");
                });
                GpuRuntime gpu = GpuRuntime.open();
                yield new Runtime(gpu.launcher(), gpu.blas(), gpu.launcher().description() + ", " + gpu.blas().description());
            }
            default -> throw new IllegalArgumentException("not a CUDA backend: " + backend);
        };
    }
}
