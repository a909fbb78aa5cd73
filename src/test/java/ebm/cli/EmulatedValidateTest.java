package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.runtime.HostKernelLibrary;
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
        // the seed and how to replay it come before the first check's row
        assertTrue(r.out().startsWith("validate: seed=42 (--seed; replay: ./ebm validate --emulated --seed 42)"), r.out());
        assertTrue(r.out().contains("bias+gelu_tanh σ′′′"), r.out());
        assertTrue(r.out().contains("CUDA graph capture"), r.out());
        // every launch also ran under a shuffled schedule: the seed is printed and each kernel has its row
        assertTrue(r.out().contains("ran in thread order and shuffled per barrier phase"), r.out());
        assertTrue(r.out().contains("schedule ebm_hutchpp_directions_f32"), r.out());
        assertTrue(r.out().contains("objective hutch++-12 gaussian"), r.out());
    }

    @Test
    void aZeroScheduleSeedIsRefused() {
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
        Cli zero = Cli.run("validate", "--emulated", "--schedule-seed", "0");
        assertEquals(2, zero.exitCode(), zero.out() + zero.err());
        assertTrue(zero.err().contains("--schedule-seed must not be 0"), zero.err());
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
