package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.TestSeeds;
import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import ebm.backend.cuda.parity.KernelParityChecks;
import ebm.backend.cuda.parity.ParityResult;
import org.junit.jupiter.api.Test;

/** The host launch path itself: lookups and argument checks fail loudly, and all checks cover something. */
class EmulatedLauncherTest {
    @Test
    void unknownKernelIsAnErrorNamingIt() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            EbmException e = assertThrows(EbmException.class, () -> launcher.function("ebm_no_such_kernel"));
            assertTrue(e.getMessage().contains("ebm_no_such_kernel"), e.getMessage());
        }
    }

    @Test
    void wrongArgumentCountIsRefusedBeforeLaunch() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); KernelArgs args = new KernelArgs().i32(1)) {
            KernelFunction f = launcher.function("ebm_reduce_sum_f32");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> launcher.launch(f, Dim3.of(1), Dim3.of(32), 0, args));
            assertTrue(e.getMessage().contains("takes 4 arguments"), e.getMessage());
        }
    }

    /** Dynamic shared memory is emulated (HostEmulatorTest), but only up to what a launch gets without opting in. */
    @Test
    void dynamicSharedMemoryPast48KiBIsRefused() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            DeviceBuffer x = launcher.upload(new float[] {1f});
            DeviceBuffer out = launcher.allocate(4);
            try (KernelArgs args = new KernelArgs().pointer(x).i64(1).f32(1f).pointer(out)) {
                KernelFunction f = launcher.function("ebm_reduce_sum_f32");
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> launcher.launch(f, Dim3.of(1), Dim3.of(32), 48 * 1024 + 4, args));
                assertTrue(e.getMessage().contains("48 KiB"), e.getMessage());
                System.out.println("refused: " + e.getMessage());
            }
        }
    }

    /** Every check in `ebm validate --emulated` passes through the host build, and there are checks at all. */
    @Test
    void everyParityCheckPasses() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            var results = new KernelParityChecks(launcher, TestSeeds.seed("KernelParityChecks.all")).all();
            assertTrue(results.size() >= 10, "too few checks: " + results.size());
            for (ParityResult r : results) HostBuild.report(r);
        }
    }
}
