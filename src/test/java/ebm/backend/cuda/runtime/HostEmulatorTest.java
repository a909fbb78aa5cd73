package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The host emulation itself (native-build/host: CUDA threads as fibers), through the emulator-only kernels of
 * native-build/host/test_kernels.cu: barriers across 1024 threads, dynamic shared memory, thread indices in 3-D
 * blocks, atomics, warp shuffles with widths and partial masks, and misuse that must fail the launch with a clear
 * message, never hang (each test has a timeout for that). Inputs are small integers wherever sums are compared, so
 * the expected values are exact in fp32 and any difference is a real one.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostEmulatorTest {
    /** What a shuffle returns for a source lane that takes no part (undefined on a GPU), as an int. */
    private static final int UNDEFINED_LANE = 0x7FC0_DEAD;

    private static float[] smallIntegers(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.nextInt(-50, 51);
        return x;
    }

    /** One launch of ebm_test_tree_sum_f32: block b's sum through a tree in dynamic shared memory. */
    private static void treeSum(HostEmulationLauncher launcher, SplittableRandom rng, int grid, int block) {
        float[] x = smallIntegers(rng, grid * block);
        DeviceBuffer xDevice = launcher.upload(x);
        DeviceBuffer out = launcher.allocate(4L * grid);
        launcher.poison(out);
        try (KernelArgs args = new KernelArgs().pointer(xDevice).pointer(out)) {
            launcher.launch(launcher.function("ebm_test_tree_sum_f32"), Dim3.of(grid), Dim3.of(block), 4 * block, args);
        }
        float[] got = launcher.readFloats(out, grid);
        double worst = 0;
        for (int b = 0; b < grid; b++) {
            double want = 0;
            for (int i = 0; i < block; i++) want += x[b * block + i];
            worst = Math.max(worst, Math.abs(got[b] - want));
            if (b == 0) System.out.printf("tree sum %d x %d: block 0 kernel %.1f, reference %.1f%n", grid, block, got[b], want);
            assertEquals(want, got[b], 0.0, "block " + b);
        }
        System.out.printf("    worst |Δ| over %d blocks = %.1f (%d __syncthreads per thread)%n", grid, worst,
                1 + Integer.numberOfTrailingZeros(block));
    }

    @Test
    void treeReductionWithABarrierPerLevelAcross1024Threads() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("tree reduction inputs", 21));
            treeSum(launcher, rng, 3, 1024); // 11 barriers, every one with 1024 waiting fibers
            treeSum(launcher, rng, 5, 256);
            treeSum(launcher, rng, 2, 1);
        }
    }

    @Test
    void threadIndicesSurviveBarriersIn3dBlocks() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            Dim3 grid = new Dim3(3, 2, 2), block = new Dim3(8, 4, 2);
            int threads = 64, total = 12 * threads;
            DeviceBuffer out = launcher.allocate(4L * 6 * total);
            launcher.poison(out);
            try (KernelArgs args = new KernelArgs().pointer(out)) {
                launcher.launch(launcher.function("ebm_test_thread_ids"), grid, block, 0, args);
            }
            int[] got = launcher.readInts(out, 6 * total);
            for (int g = 0; g < total; g++) {
                int t = g % threads;
                int[] want = {t % 8, t / 8 % 4, t / 32, t % 8, t / 8 % 4, t / 32};
                assertArrayEquals(want, Arrays.copyOfRange(got, 6 * g, 6 * g + 6), "global thread " + g);
            }
            System.out.printf("3-D: thread %d: threadIdx before (%d,%d,%d), after two barriers (%d,%d,%d)%n", 77,
                    got[6 * 77], got[6 * 77 + 1], got[6 * 77 + 2], got[6 * 77 + 3], got[6 * 77 + 4], got[6 * 77 + 5]);
        }
    }

    @Test
    void atomicsCountEveryThreadOnce() {
        // one schedule: the tickets are the threads' order, which a shuffled schedule changes (ScheduleComparisonTest)
        try (HostEmulationLauncher launcher = HostBuild.singleScheduleLauncherOrSkip(0)) {
            int grid = 4, block = 96, n = grid * block;
            DeviceBuffer ints = launcher.allocate(4L * 5);
            launcher.copyToDevice(java.lang.foreign.MemorySegment.ofArray(new int[] {0, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 0}), ints);
            DeviceBuffer tickets = launcher.allocate(4L * n);
            DeviceBuffer fsum = launcher.upload(new float[] {0f});
            DeviceBuffer dsum = launcher.upload(new double[] {0});
            DeviceBuffer usum = launcher.upload(new long[] {0});
            DeviceBuffer umax = launcher.upload(new float[] {0f}); // 4 zero bytes as an unsigned
            try (KernelArgs args = new KernelArgs().pointer(ints).pointer(tickets).pointer(fsum).pointer(dsum)
                    .pointer(usum).pointer(umax)) {
                launcher.launch(launcher.function("ebm_test_atomics"), Dim3.of(grid), Dim3.of(block), 0, args);
            }
            int[] got = launcher.readInts(ints, 5);
            int[] order = launcher.readInts(tickets, n);
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < n; i++) assertEquals(i, sorted[i], "atomicAdd tickets must be 0..n-1 once each");
            int max = Integer.MIN_VALUE, min = Integer.MAX_VALUE;
            double dsumWant = 0;
            for (int g = 0; g < n; g++) {
                max = Math.max(max, (int) ((g * 7919L) % 1000));
                min = Math.min(min, -(int) ((g * 104729L) % 1000));
                dsumWant += g;
            }
            assertEquals(n, got[0], "atomicAdd(int) count");
            assertEquals(max, got[1], "atomicMax(int)");
            assertEquals(min, got[2], "atomicMin(int)");
            assertEquals(n, got[3], "__shared__ atomicAdd counts summed per block");
            assertTrue(got[4] >= 1001 && got[4] <= n + 1000, "exactly one atomicCAS from 0 wins: " + got[4]);
            assertEquals(0.25f * n, launcher.readFloats(fsum, 1)[0], 0f, "atomicAdd(float)");
            assertEquals(dsumWant, launcher.readDoubles(dsum, 1)[0], 0.0, "atomicAdd(double)");
            assertEquals((long) n << 33, launcher.readLongs(usum, 1)[0], "atomicAdd(unsigned long long)");
            assertEquals(n - 1, launcher.readInts(umax, 1)[0], "atomicMax(unsigned)");
            System.out.printf("atomics over %d threads: count %d, max %d (want %d), min %d (want %d), CAS winner %d, "
                    + "float sum %.2f, double sum %.0f%n", n, got[0], got[1], max, got[2], min, got[4] - 1001,
                    launcher.readFloats(fsum, 1)[0], launcher.readDoubles(dsum, 1)[0]);
        }
    }

    /** The CUDA documentation's result of one lane's shuffle (for a lane that takes part). */
    private static int expectedShuffle(int[] values, int base, int lanes, int lane, int mode, int operand, int width,
                                       int mask) {
        int b = operand & 31;
        int segment = lane / width * width;
        int src = switch (mode) {
            case 0 -> segment + b % width;                                       // __shfl_sync: srcLane modulo width
            case 1 -> lane - b >= segment ? lane - b : -1;                       // __shfl_up_sync
            case 2 -> lane + b < segment + width ? lane + b : -1;                // __shfl_down_sync
            default -> (lane ^ b) < segment + width ? lane ^ b : -1;            // __shfl_xor_sync: later groups → own
        };
        if (src < 0) return values[base + lane];
        boolean takesPart = src < lanes && (mask >>> src & 1) != 0;
        return takesPart ? values[base + src] : UNDEFINED_LANE;
    }

    @Test
    void shufflesMatchTheDocumentedLaneArithmetic() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            int grid = 2, block = 48; // the second warp of each block has 16 lanes
            int n = grid * block;
            int[] values = new int[n];
            for (int i = 0; i < n; i++) values[i] = 1000 + i;
            DeviceBuffer in = launcher.allocate(4L * n);
            launcher.copyToDevice(java.lang.foreign.MemorySegment.ofArray(values), in);
            DeviceBuffer out = launcher.allocate(4L * n);
            KernelFunction shuffle = launcher.function("ebm_test_shuffle");
            String[] names = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync"};
            int launches = 0, compared = 0, undefined = 0;
            for (int mode = 0; mode < 4; mode++) {
                for (int operand : mode == 0 ? new int[] {0, 1, 3, 5, 16, 31, 37} : new int[] {0, 1, 3, 5, 16, 31}) {
                    for (int width : new int[] {32, 16, 8, 1}) {
                        for (int mask : new int[] {0xFFFF_FFFF, 0x0000_FFFF, 0xAAAA_AAAA}) {
                            launcher.poison(out);
                            try (KernelArgs args = new KernelArgs().pointer(in).pointer(out).i32(mode).i32(operand)
                                    .i32(width).i32(mask)) {
                                launcher.launch(shuffle, Dim3.of(grid), Dim3.of(block), 0, args);
                            }
                            launches++;
                            int[] got = launcher.readInts(out, n);
                            for (int g = 0; g < n; g++) {
                                int t = g % block, lane = t % 32, warpBase = g - lane;
                                int lanes = Math.min(32, block - (t - lane));
                                int want = (mask >>> lane & 1) == 0 ? values[g]
                                        : expectedShuffle(values, warpBase, lanes, lane, mode, operand, width, mask);
                                if (want == UNDEFINED_LANE) undefined++;
                                assertEquals(want, got[g], String.format("%s(mask %08x, operand %d, width %d) at thread %d",
                                        names[mode], mask, operand, width, g));
                                compared++;
                            }
                        }
                    }
                }
            }
            System.out.printf("shuffles: %d launches, %d lanes compared exactly (%d read a lane outside the mask or "
                    + "block, which gives %08x)%n", launches, compared, undefined, UNDEFINED_LANE);
        }
    }

    @Test
    void warpReductionsByShuffleDownAndXor() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            int grid = 3, block = 128, n = grid * block;
            float[] x = smallIntegers(new SplittableRandom(TestSeeds.fixed("warp reduction inputs", 22)), n);
            DeviceBuffer xDevice = launcher.upload(x);
            DeviceBuffer down = launcher.allocate(4L * n / 32);
            DeviceBuffer xor = launcher.allocate(8L * n);
            launcher.poison(down);
            launcher.poison(xor);
            try (KernelArgs args = new KernelArgs().pointer(xDevice).pointer(down).pointer(xor)) {
                launcher.launch(launcher.function("ebm_test_warp_sums"), Dim3.of(grid), Dim3.of(block), 0, args);
            }
            float[] gotDown = launcher.readFloats(down, n / 32);
            double[] gotXor = launcher.readDoubles(xor, n);
            for (int w = 0; w < n / 32; w++) {
                double want = 0;
                for (int i = 0; i < 32; i++) want += x[32 * w + i];
                assertEquals(want, gotDown[w], 0.0, "shfl_down sum of warp " + w);
                for (int i = 0; i < 32; i++) assertEquals(want, gotXor[32 * w + i], 0.0, "shfl_xor sum, lane " + i + " of warp " + w);
                if (w == 0) System.out.printf("warp 0: shfl_down %.1f, shfl_xor (every lane) %.1f, reference %.1f%n", gotDown[w], gotXor[0], want);
            }
            System.out.printf("    %d warps: every shfl_down and shfl_xor sum exact (worst |Δ| = 0)%n", n / 32);
        }
    }

    @Test
    void misuseFailsTheLaunchWithAClearMessageAndTheEmulatorRecovers() {
        String[][] cases = {
            {"exited without reaching the __syncthreads", "thread (3,0,0) of block (0,0,0)"},
            {"divergent barriers", "test_kernels.cu"},
            {"waits in __shfl_down_sync", "which waits at the __syncthreads"},
            {"width 12", "power of two"},
            {"sharedBytes = 0", "dynamic shared memory"},
        };
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            DeviceBuffer out = launcher.allocate(4L * 64);
            KernelFunction misuse = launcher.function("ebm_test_misuse");
            for (int which = 0; which < cases.length; which++) {
                try (KernelArgs args = new KernelArgs().i32(which).pointer(out)) {
                    IllegalStateException e = assertThrows(IllegalStateException.class,
                            () -> launcher.launch(misuse, Dim3.of(2), Dim3.of(64), 0, args));
                    System.out.println("case " + which + ": " + e.getMessage());
                    for (String part : cases[which]) assertTrue(e.getMessage().contains(part), e.getMessage());
                }
                // The fibers that were waiting were unwound: the next launch runs normally.
                treeSum(launcher, new SplittableRandom(which), 2, 64);
            }
        }
    }
}
