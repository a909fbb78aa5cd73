package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import org.junit.jupiter.api.Test;

/**
 * What one launch through the host emulation costs (native-build/README.md quotes these numbers): AdamW over 1M
 * parameters and the tree reduction over 1M floats at 64 blocks x 256 threads, and the same launches over n = 0,
 * which is the emulator's own overhead (starting 64 x 256 CUDA threads, and for the reduction its 9 barriers), and
 * a one-thread launch (ebm_adamw_advance).
 * Each under the thread-order schedule and a shuffled one (the shuffle's own cost: one Fisher–Yates per barrier phase).
 * Prints milliseconds per launch; asserts only that the reduction still adds up, never a time.
 */
class HostLaunchTimingTest {
    private static final int N = 1 << 20, GRID = 64, BLOCK = 256;

    @Test
    void printsMillisecondsPerLaunch() {
        long seed = HostEmulationLauncher.configuredOrFreshScheduleSeed();
        for (long schedule : new long[] {0, seed}) {
            System.out.println(schedule == 0 ? "threads in index order:" : "threads shuffled per barrier phase (schedule seed " + schedule + "):");
            timeLaunches(schedule);
        }
    }

    private static void timeLaunches(long schedule) {
        try (HostEmulationLauncher launcher = HostBuild.singleScheduleLauncherOrSkip(schedule)) {
            float[] ones = new float[N];
            java.util.Arrays.fill(ones, 1f);
            DeviceBuffer params = launcher.upload(ones), grad = launcher.upload(ones);
            DeviceBuffer m = launcher.upload(new float[N]), v = launcher.upload(new float[N]);
            DeviceBuffer scalars = launcher.upload(new double[] {0, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1.0, 1e-2, 3e-2});
            DeviceBuffer partials = launcher.allocate(4L * GRID);
            KernelFunction adamw = launcher.function("ebm_adamw_step_f32");
            KernelFunction reduce = launcher.function("ebm_reduce_sum_f32");
            try (KernelArgs args = new KernelArgs().pointer(launcher.upload(new double[9]))) {
                KernelFunction advance = launcher.function("ebm_adamw_advance");
                double ms = time(() -> launcher.launch(advance, Dim3.of(1), Dim3.of(1), 0, args));
                System.out.printf("ebm_adamw_advance   1 x 1 thread: %.3f ms per launch%n", ms);
            }
            for (long n : new long[] {N, 0}) {
                try (KernelArgs args = new KernelArgs().pointer(params).pointer(grad).pointer(m).pointer(v).i64(n).pointer(scalars)) {
                    double ms = time(() -> launcher.launch(adamw, Dim3.of(GRID), Dim3.of(BLOCK), 0, args));
                    System.out.printf("ebm_adamw_step_f32  n=%-8d %d x %d threads: %.3f ms per launch%n", n, GRID, BLOCK, ms);
                }
                try (KernelArgs args = new KernelArgs().pointer(params).i64(n).f32(1f).pointer(partials)) {
                    launcher.write(params, ones);
                    double ms = time(() -> launcher.launch(reduce, Dim3.of(GRID), Dim3.of(BLOCK), 0, args));
                    System.out.printf("ebm_reduce_sum_f32  n=%-8d %d x %d threads: %.3f ms per launch%n", n, GRID, BLOCK, ms);
                    float[] got = launcher.readFloats(partials, GRID);
                    System.out.printf("    block 0 partial %.1f, want %.1f%n", got[0], (double) n / GRID);
                    for (float p : got) assertEquals((double) n / GRID, p, 0.0); // sums of ones: exact in fp32
                }
            }
        }
    }

    /** Median of 15 timed launches after 3 warm-up launches, in milliseconds. */
    private static double time(Runnable launch) {
        for (int i = 0; i < 3; i++) launch.run();
        double[] ms = new double[15];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            launch.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        java.util.Arrays.sort(ms);
        return ms[ms.length / 2];
    }
}
