package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.parity.ParityResult;
import org.junit.jupiter.api.Assumptions;

/** Opens the host build of kernels/ for a parity test, or skips it (never passes it) when no g++ was found. */
public final class HostBuild {
    private HostBuild() {}

    public static HostEmulationLauncher launcherOrSkip() {
        // Only a build that found no host compiler skips; a missing library otherwise is a failure naming the file.
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
        return new HostEmulationLauncher();
    }

    public static void report(ParityResult result) {
        System.out.println(result.summary());
        for (String pair : result.worstPairs()) System.out.println("    " + pair);
        assertTrue(result.passed(), result.summary());
    }
}
