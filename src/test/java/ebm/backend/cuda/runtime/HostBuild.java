package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.parity.KernelParityChecks;
import ebm.backend.cuda.parity.ParityResult;
import org.junit.jupiter.api.Assumptions;

/** Opens the host build of kernels/ for a parity test, or skips it (never passes it) when no g++ was found. */
public final class HostBuild {
    private HostBuild() {}

    /**
     * The launcher of the parity tests: every launch runs in thread order and again shuffled (seed from
     * EBM_EMULATION_SCHEDULE_SEED when set, else fresh; printed), and a launch whose bytes differ between the two
     * fails, naming the kernel.
     */
    public static HostEmulationLauncher launcherOrSkip() {
        skipWithoutCompiler();
        long seed = HostEmulationLauncher.configuredOrFreshScheduleSeed();
        System.out.println("schedules: thread order and shuffled, schedule seed " + seed + " (" + HostEmulationLauncher.SCHEDULE_SEED_ENV
                + "=" + seed + " repeats it)");
        return HostEmulationLauncher.comparingSchedules(seed, HostEmulationLauncher.OnDifference.FAIL_LAUNCH,
                KernelParityChecks.SCHEDULE_DEPENDENT);
    }

    /** One schedule only (0: thread order): for timings, and for kernels whose result is meant to follow the order. */
    public static HostEmulationLauncher singleScheduleLauncherOrSkip(long seed) {
        skipWithoutCompiler();
        return HostEmulationLauncher.withSchedule(seed);
    }

    public static void skipWithoutCompiler() {
        // Only a build that found no host compiler skips; a missing library otherwise is a failure naming the file.
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
    }

    public static void report(ParityResult result) {
        System.out.println(result.summary());
        for (String pair : result.worstPairs()) System.out.println("    " + pair);
        assertTrue(result.passed(), result.summary());
    }
}
