package ebm.backend.cuda.parity;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import org.junit.jupiter.api.Test;

/** kernels/reduce.cu: shared-memory tree with __syncthreads (the barrier emulation), against an fp64 sum. */
class ReduceSumParityTest {
    @Test
    void batchMeanAndEveryBlockPartialMatchFp64() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            KernelParityChecks checks = new KernelParityChecks(launcher, TestSeeds.seed("KernelParityChecks.reduceSumF32"));
            HostBuild.report(checks.reduceSumF32(100_003, 37, 256));
            HostBuild.report(checks.reduceSumF32(5_000, 3, 1024)); // the largest block: 1024 threads at each barrier
        }
    }
}
