package ebm.backend.cuda.parity;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import org.junit.jupiter.api.Test;

/** kernels/reduce.cu: shared-memory trees with __syncthreads (the barrier emulation), against fp64 sums. */
class ReduceSumParityTest {
    @Test
    void batchMeanAndEveryBlockPartialMatchFp64() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            KernelParityChecks checks = new KernelParityChecks(launcher, TestSeeds.seed("KernelParityChecks.reduceSumF32"));
            HostBuild.report(checks.reduceSumF32(100_003, 37, 256));
            HostBuild.report(checks.reduceSumF32(5_000, 3, 1024)); // the largest block: 1024 threads at each barrier
        }
    }

    /** A block per row: a short row (one warp, most lanes idle) and a long one (1024 threads, 98 elements each). */
    @Test
    void rowSumsAndAccumulatedRowDotsMatchFp64AtShortAndLongRows() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            KernelParityChecks checks = new KernelParityChecks(launcher, TestSeeds.seed("KernelParityChecks.rowReduceF32"));
            HostBuild.report(checks.rowReduceF32(3, 7));
            HostBuild.report(checks.rowReduceF32(3, 100_000));
            HostBuild.report(checks.rowReduceF32(5, 1_000)); // not a multiple of the block: a partial last stride
        }
    }

    @Test
    void nonFiniteCountIsExact() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            KernelParityChecks checks = new KernelParityChecks(launcher, TestSeeds.seed("KernelParityChecks.countNonFiniteF32"));
            HostBuild.report(checks.countNonFiniteF32(100_003));
        }
    }
}
