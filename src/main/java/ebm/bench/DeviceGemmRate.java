package ebm.bench;

import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.step.CudaBackends;
import ebm.config.BackendKind;
import java.util.Arrays;

/**
 * The device's GEMM rate in the run's precision (fp32, tf32 or bf16 mode), the limit a GPU step's GEMM FLOPs are
 * compared with (the CPU's is
 * {@link StepBench#gemmRate}): a square n³ product through the backend's Blas (cuBLAS on a GPU), timed with the
 * launcher's clock (device events on a GPU), best of a few repeats after one warm-up. Values come from a fixed
 * pattern, not checked here: `ebm bench kernels` validates the same GEMM before it times it.
 */
public final class DeviceGemmRate {
    private static final int REPEATS = 5;

    private DeviceGemmRate() {}

    /** GFLOP/s of an n×n×n GEMM on the backend (cuda or cuda-emulated) in precision ("fp32", "tf32", "bf16"). */
    public static double measure(BackendKind backend, String precision, int n) {
        try (CudaBackends.Runtime runtime = CudaBackends.open(backend, CudaBackends.precision(precision))) {
            KernelLauncher launcher = runtime.launcher();
            Blas blas = runtime.blas();
            float[] values = new float[n * n];
            for (int i = 0; i < values.length; i++) values[i] = (i % 7 - 3) * 0.25f;
            DeviceBuffer a = launcher.upload(values), b = launcher.upload(values);
            DeviceBuffer c = launcher.allocate(4L * n * n, "GEMM rate C");
            Runnable gemm = () -> blas.gemm(false, false, n, n, n, 1f, a.address(), n, b.address(), n, 0f, c.address(), n);
            launcher.elapsedMillis(gemm); // warm-up: cuBLAS picks and loads its kernel
            double[] ms = new double[REPEATS];
            for (int r = 0; r < REPEATS; r++) ms[r] = launcher.elapsedMillis(gemm);
            double best = Arrays.stream(ms).min().orElseThrow();
            return 2.0 * n * n * n / (best * 1e-3) / 1e9;
        }
    }
}
