package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.backend.cuda.bindings.CudaLibraries;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Without a GPU: the runtime says why in one sentence, and asking for it anyway is that error, not a fallback. */
class GpuRuntimeTest {

    @Test
    void withoutLibcudaTheReasonNamesItAndTheCpuBackend(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        Assumptions.assumeFalse(CudaLibraries.system().cuda().found(), "libcuda.so.1 is present here");
        Optional<String> reason = GpuRuntime.unavailableReason();
        System.out.println(reason.orElse("(none)"));
        assertTrue(reason.isPresent());
        assertTrue(reason.get().startsWith("no GPU: libcuda.so.1 not found (looked in: "), reason.get());
        assertTrue(reason.get().contains("the CPU backend (backend: cpu) works without a GPU"), reason.get());
        assertEquals(reason, GpuRuntime.deviceUnavailableReason());
        EbmException e = assertThrows(EbmException.class, GpuRuntime::open);
        assertEquals(reason.get(), e.getMessage());
        EbmException launcher = assertThrows(EbmException.class, () -> new DriverLauncher(0, java.nio.file.Files.writeString(tmp.resolve("k.fatbin"), "x")));
        assertTrue(launcher.getMessage().contains("libcuda.so.1 not found"), launcher.getMessage());
    }

    @Test
    void deviceSelectionFromTheEnvironment() {
        assertEquals(0, DriverLauncher.selectedOrdinal(Map.of()));
        assertEquals(2, DriverLauncher.selectedOrdinal(Map.of("EBM_CUDA_DEVICE", " 2 ")));
        EbmException e = assertThrows(EbmException.class, () -> DriverLauncher.selectedOrdinal(Map.of("EBM_CUDA_DEVICE", "gpu1")));
        assertEquals("EBM_CUDA_DEVICE=gpu1 is not a device number (0, 1, ...)", e.getMessage());
        assertThrows(EbmException.class, () -> DriverLauncher.selectedOrdinal(Map.of("EBM_CUDA_DEVICE", "-1")));
    }

    @Test
    void missingFatbinNamesTheBuildScript() {
        String saved = System.getProperty("ebm.kernels.gpu");
        System.setProperty("ebm.kernels.gpu", "target/no-such-dir/ebm_kernels.fatbin");
        try {
            String reason = GpuKernelModule.missingReason().orElseThrow();
            assertEquals("GPU kernel module target/no-such-dir/ebm_kernels.fatbin not found; build it with native-build/build-gpu.sh (needs nvcc)", reason);
        } finally {
            if (saved == null) System.clearProperty("ebm.kernels.gpu");
            else System.setProperty("ebm.kernels.gpu", saved);
        }
    }
}
