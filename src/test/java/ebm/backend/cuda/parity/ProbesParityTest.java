package ebm.backend.cuda.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ebm.TestSeeds;
import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.rng.RandomStream;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** kernels/probes.cu (and philox.cuh) through the host build against ebm.rng.RandomStream. */
class ProbesParityTest {
    private HostEmulationLauncher launcher;
    private KernelParityChecks checks;

    @BeforeEach
    void open() {
        launcher = HostBuild.launcherOrSkip();
        checks = new KernelParityChecks(launcher, TestSeeds.seed("KernelParityChecks probes"));
    }

    @AfterEach
    void close() {
        if (launcher != null) launcher.close();
    }

    @Test
    void philoxWordsAreBitIdentical() {
        HostBuild.report(checks.philoxWords());
    }

    @Test
    void rademacherSignsAreExact() {
        HostBuild.report(checks.rademacherF32());
    }

    @Test
    void gaussiansFp64MatchToRounding() {
        HostBuild.report(checks.gaussianF64());
    }

    @Test
    void gaussiansFp32MatchToFp32Rounding() {
        HostBuild.report(checks.gaussianF32());
    }

    /** The same launch arguments (as a captured graph bakes them) with a new step in device memory: new probes. */
    @Test
    void replayWithNewStepInDeviceMemoryDrawsNewProbes() {
        int n = 1000, stream = 7;
        long seed = TestSeeds.fixed("probes replay with a new step", 1234567890123L);
        DeviceBuffer key = checks.philoxKey(seed, 41);
        DeviceBuffer out = launcher.allocate(4L * n);
        DeviceKernels kernels = DeviceKernels.waiting(launcher);
        Runnable launch = () -> kernels.probesWordsU32(Grid.of(2, 128, 0), out.address(), n, 0, stream, key.address());
        launcher.poison(out);
        launch.run();
        int[] first = launcher.readInts(out, n);
        launcher.write(key, new long[] {seed, 42});
        launcher.poison(out);
        launch.run();
        int[] second = launcher.readInts(out, n);
        assertFalse(Arrays.equals(first, second), "two replays with different steps drew the same words");
        assertArrayEquals(words(seed, 41, stream, n), first);
        assertArrayEquals(words(seed, 42, stream, n), second);
        System.out.printf("replay: step 41 word0 %08x, step 42 word0 %08x%n", first[0], second[0]);
    }

    private static int[] words(long seed, long step, int stream, int n) {
        RandomStream s = new RandomStream(seed, step, stream);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = s.word(i);
        return out;
    }
}
