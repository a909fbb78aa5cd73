package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.HostKernelLibrary;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class EmulatedValidateTest {
    @Test
    void emulatedRunPassesEveryKernelAndListsGpuOnlyChecks() {
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
        Cli r = Cli.run("validate", "--emulated", "--seed", "42");
        System.out.println(r.out());
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertFalse(r.out().contains("FAIL"), r.out());
        assertTrue(r.out().contains("bias+gelu_tanh σ′′′"), r.out());
        assertTrue(r.out().contains("CUDA graph capture"), r.out());
        assertTrue(r.out().contains("objective hutch++-12 gaussian"), r.out());
    }

    @Test
    void withoutGpuEveryOpIsSkippedNeverPassed() {
        Cli r = Cli.run("validate");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("skipped: no GPU"), r.out());
        assertFalse(r.out().contains("pass"), r.out());
    }

    @Test
    void missingHostLibraryIsAOneLineErrorNamingFileAndBuildCommand() {
        String saved = System.getProperty("ebm.kernels.host");
        System.setProperty("ebm.kernels.host", "target/no-such-dir/libebm_kernels_host.so");
        try {
            Cli r = Cli.run("validate", "--emulated");
            assertEquals(2, r.exitCode());
            assertTrue(r.err().contains("no-such-dir/libebm_kernels_host.so") && r.err().contains("build-host.sh"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        } finally {
            if (saved == null) System.clearProperty("ebm.kernels.host");
            else System.setProperty("ebm.kernels.host", saved);
        }
    }
}
