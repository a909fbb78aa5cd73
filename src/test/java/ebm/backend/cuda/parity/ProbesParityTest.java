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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** kernels/probes.cu (and philox.cuh) through the host build against ebm.rng.RandomStream. */
class ProbesParityTest {
    private HostEmulationLauncher launcher;

    @BeforeEach
    void open() {
        launcher = HostBuild.launcherOrSkip();
    }

    @AfterEach
    void close() {
        if (launcher != null) launcher.close();
    }

    /** Each probes kernel against RandomStream: one dynamic test per check, each on fresh checks of the same seed. */
    @TestFactory
    Stream<DynamicTest> everyProbesKernelMatchesRandomStream() {
        long seed = TestSeeds.seed("KernelParityChecks probes");
        Map<String, Function<KernelParityChecks, ParityResult>> checked = new LinkedHashMap<>();
        checked.put("philox words are bit-identical", KernelParityChecks::philoxWords);
        checked.put("rademacher signs are exact", KernelParityChecks::rademacherF32);
        checked.put("fp64 Gaussians match to rounding", KernelParityChecks::gaussianF64);
        checked.put("fp32 Gaussians match to fp32 rounding", KernelParityChecks::gaussianF32);
        return checked.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(),
                () -> HostBuild.report(e.getValue().apply(new KernelParityChecks(launcher, seed)))));
    }

    /** The same launch arguments (as a captured graph bakes them) with a new step in device memory: new probes. */
    @Test
    void replayWithNewStepInDeviceMemoryDrawsNewProbes() {
        int n = 1000, stream = 7;
        long seed = TestSeeds.fixed("probes replay with a new step", 1234567890123L);
        DeviceBuffer key = new KernelParityChecks(launcher, seed).philoxKey(seed, 41);
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
