package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.parity.BlasParityChecks;
import ebm.backend.cuda.parity.GpuOnlyChecks;
import ebm.backend.cuda.parity.KernelParityChecks;
import ebm.backend.cuda.parity.ParityResult;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The GPU path on a real GPU: every kernel parity check through the DriverLauncher, cuBLAS at every precision
 * against the naive fp64 loop, and a captured graph replayed with its step changed in device memory. Runs only where
 * a GPU exists (a driver that initialises and a device); JUnit reports it skipped elsewhere, never passed. Where a
 * GPU exists but the fatbin or cuBLAS is missing, it fails with the reason instead of skipping.
 */
@EnabledIf("gpuPresent")
class DriverLauncherGpuTest {

    static boolean gpuPresent() {
        return GpuRuntime.deviceUnavailableReason().isEmpty();
    }

    @Test
    void everyKernelParityCheckPassesThroughTheDriver() {
        try (DriverLauncher launcher = new DriverLauncher()) {
            System.out.println("kernels through " + launcher.description());
            List<ParityResult> results = new KernelParityChecks(launcher, TestSeeds.seed("KernelParityChecks.all through the driver")).all();
            assertTrue(results.size() >= 10, "too few checks: " + results.size());
            for (ParityResult r : results) HostBuild.report(r);
        }
    }

    @Test
    void cublasMatchesTheNaiveFp64LoopAtEveryPrecision() {
        try (GpuRuntime runtime = GpuRuntime.open()) {
            long seed = TestSeeds.seed("BlasParityChecks.all through cuBLAS (every precision)");
            for (Blas.GemmPrecision p : Blas.GemmPrecision.values()) {
                try (CublasBlas blas = new CublasBlas(runtime.launcher(), p)) {
                    System.out.println(blas.description());
                    for (ParityResult r : new BlasParityChecks(blas, runtime.launcher(), seed).all()) HostBuild.report(r);
                }
            }
        }
    }

    @Test
    void graphReplaysReadTheStepFromDeviceMemory() {
        try (DriverLauncher launcher = new DriverLauncher()) {
            HostBuild.report(GpuOnlyChecks.graphReplayReadsStepFromDevice(launcher,
                    TestSeeds.seed("GpuOnlyChecks.graphReplayReadsStepFromDevice")));
        }
    }

    @Test
    void peakMemoryCountsTheCublasWorkspace() {
        try (GpuRuntime runtime = GpuRuntime.open()) {
            DriverLauncher.MemoryUse use = runtime.launcher().memoryUse();
            System.out.println(use);
            assertTrue(use.peakBytesAllocated() >= CublasBlas.WORKSPACE_BYTES, use.toString());
            assertTrue(use.peakDeviceBytesInUse() >= use.peakBytesAllocated(), use.toString());
            DeviceBuffer one = runtime.launcher().upload(new float[] {2f});
            DeviceBuffer out = runtime.launcher().allocate(4, "1x1 product");
            float ms = runtime.launcher().elapsedMillis(() -> runtime.blas().gemm(false, false, 1, 1, 1, 1f, one.address(), 1,
                    one.address(), 1, 0f, out.address(), 1));
            assertTrue(runtime.launcher().readFloats(out, 1)[0] == 4f, "1x1 gemm");
            assertTrue(ms >= 0, "elapsed " + ms);
        }
    }
}
