package ebm.backend.cuda.parity;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.tape.Activation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** kernels/activation.cu: σ, σ′, σ″, σ‴ after the bias add, fp32, against Activation.derivative in fp64. */
class BiasActivationParityTest {
    @ParameterizedTest
    @EnumSource(Activation.class)
    void allFourOrdersMatchReference(Activation activation) {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            for (ParityResult result : new KernelParityChecks(launcher, TestSeeds.seed(
                    "KernelParityChecks.biasActivationF32(" + activation + ")")).biasActivationF32(activation)) {
                HostBuild.report(result);
            }
        }
    }
}
