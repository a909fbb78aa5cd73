package ebm.backend.cuda;

import org.junit.jupiter.api.Test;

/**
 * The device tape's ops, each objective's loss and parameter gradient, and whole training steps, through the host
 * build of kernels/ and the host GEMM, against the fp64 CPU reference (StepParityChecks holds the tolerances).
 */
class DeviceObjectiveParityTest {

    @Test
    void everyTapeOpMatchesTheCpuTape() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            for (ParityResult r : new StepParityChecks(launcher, blas, System.nanoTime()).tapeOps()) HostBuild.report(r);
        }
    }

    @Test
    void everyObjectiveMatchesTheCpuReference() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            for (ParityResult r : new StepParityChecks(launcher, blas, System.nanoTime()).objectives()) HostBuild.report(r);
        }
    }

    @Test
    void objectivesWithTf32AndBf16GemmsStayWithinTheirDocumentedTolerances() {
        int repeats = Integer.getInteger("ebm.precisionRepeats", 1);
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            for (int i = 0; i < repeats; i++) {
                for (ParityResult r : new StepParityChecks(launcher, blas, System.nanoTime()).precisions()) HostBuild.report(r);
            }
        }
    }

    @Test
    void wholeTrainingStepsFollowTheCpuReference() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            for (ParityResult r : new StepParityChecks(launcher, blas, System.nanoTime()).trainingSteps()) HostBuild.report(r);
        }
    }
}
