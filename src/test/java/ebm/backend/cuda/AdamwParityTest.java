package ebm.backend.cuda;

import org.junit.jupiter.api.Test;

/** kernels/adamw.cu (fp32, step/lr/bias corrections in device memory) against ebm.optim.AdamW in fp64. */
class AdamwParityTest {
    @Test
    void fusedAdamWMatchesReferenceOverSeveralSteps() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            for (ParityResult r : new KernelParityChecks(launcher, System.nanoTime()).adamwF32()) HostBuild.report(r);
        }
    }
}
