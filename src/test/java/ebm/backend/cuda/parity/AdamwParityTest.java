package ebm.backend.cuda.parity;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import org.junit.jupiter.api.Test;

/** kernels/adamw.cu (fp32, step/lr/bias corrections in device memory) against ebm.optim.AdamW in fp64. */
class AdamwParityTest {
    @Test
    void fusedAdamWMatchesReferenceOverSeveralSteps() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            long seed = TestSeeds.seed("KernelParityChecks.adamwF32");
            for (ParityResult r : new KernelParityChecks(launcher, seed).adamwF32()) HostBuild.report(r);
        }
    }
}
