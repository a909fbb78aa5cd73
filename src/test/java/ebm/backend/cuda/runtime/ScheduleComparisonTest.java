package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.parity.KernelParityChecks;
import ebm.backend.cuda.parity.ParityResult;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The host build's shuffled schedules and the comparison of each launch in thread order against one shuffled
 * schedule (HostEmulationLauncher): the shuffle reorders a phase's threads reproducibly, a race within a phase (version
 * 1 of hutchpp.cu's directions kernel, kept in test_kernels.cu) makes the comparison fail while the fixed kernel
 * passes, a kernel listed as schedule-dependent is held to its tolerance instead, and only the arena pieces a launch
 * points into are copied.
 */
class ScheduleComparisonTest {
    private static final int THREADS = Grid.THREADS;

    /** ebm_test_atomics' tickets: the order in which the threads took their atomicAdd in the phase after a barrier. */
    private static int[] tickets(HostEmulationLauncher launcher, int grid, int block) {
        int n = grid * block;
        DeviceBuffer ints = launcher.upload(new float[5]);
        DeviceBuffer tickets = launcher.allocate(4L * n);
        try (KernelArgs args = new KernelArgs().pointer(ints).pointer(tickets).pointer(launcher.upload(new float[1]))
                .pointer(launcher.upload(new double[1])).pointer(launcher.upload(new long[1])).pointer(launcher.upload(new float[1]))) {
            launcher.launch(launcher.function("ebm_test_atomics"), Dim3.of(grid), Dim3.of(block), 0, args);
        }
        return launcher.readInts(tickets, n);
    }

    @Test
    void shuffledSchedulesReorderEachPhaseReproducibly() {
        long seed = HostEmulationLauncher.configuredOrFreshScheduleSeed();
        int grid = 3, block = 96;
        int[] inOrder, shuffled, again, other;
        try (HostEmulationLauncher launcher = HostBuild.singleScheduleLauncherOrSkip(0)) {
            inOrder = tickets(launcher, grid, block);
        }
        try (HostEmulationLauncher launcher = HostBuild.singleScheduleLauncherOrSkip(seed)) {
            shuffled = tickets(launcher, grid, block);
        }
        try (HostEmulationLauncher launcher = HostBuild.singleScheduleLauncherOrSkip(seed)) {
            again = tickets(launcher, grid, block);
        }
        try (HostEmulationLauncher launcher = HostBuild.singleScheduleLauncherOrSkip(seed + 1)) {
            other = tickets(launcher, grid, block);
        }
        System.out.printf("schedule seed %d: tickets of threads 0..5 in order %s, shuffled %s, same seed again %s, seed + 1 %s%n",
                seed, Arrays.toString(Arrays.copyOf(inOrder, 6)), Arrays.toString(Arrays.copyOf(shuffled, 6)),
                Arrays.toString(Arrays.copyOf(again, 6)), Arrays.toString(Arrays.copyOf(other, 6)));
        for (int g = 0; g < grid * block; g++) assertEquals(g, inOrder[g], "schedule 0 runs threads in index order");
        assertArrayEquals(shuffled, again, "the same seed must give the same schedule");
        assertFalse(Arrays.equals(shuffled, inOrder), "a shuffled schedule must reorder threads");
        assertFalse(Arrays.equals(shuffled, other), "another seed must give another schedule");
        for (int b = 0; b < grid; b++) { // blocks still run one after another: each takes the next block's tickets
            int[] mine = Arrays.copyOfRange(shuffled, b * block, (b + 1) * block);
            Arrays.sort(mine);
            for (int i = 0; i < block; i++) assertEquals(b * block + i, mine[i], "block " + b + "'s tickets");
        }
    }

    @Test
    void misuseIsStillReportedUnderAShuffledSchedule() {
        long seed = HostEmulationLauncher.configuredOrFreshScheduleSeed();
        System.out.println("schedule seed " + seed);
        try (HostEmulationLauncher launcher = HostBuild.singleScheduleLauncherOrSkip(seed)) {
            DeviceBuffer out = launcher.allocate(4L * 64);
            try (KernelArgs args = new KernelArgs().i32(0).pointer(out)) {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> launcher.launch(launcher.function("ebm_test_misuse"), Dim3.of(2), Dim3.of(64), 0, args));
                System.out.println("shuffled: " + e.getMessage());
                assertTrue(e.getMessage().contains("thread (3,0,0) of block (0,0,0) exited without reaching the __syncthreads"), e.getMessage());
            }
        }
    }

    /** Random sketches Y [batch·s x d] and probes [batch·(s + rest) x d]. */
    private record Sketch(int batch, int d, int s, int rest, float[] y, float[] draws) {
        static Sketch random(SplittableRandom rng, int batch, int d, int s, int rest) {
            float[] y = new float[batch * s * d], draws = new float[batch * (s + rest) * d];
            for (int i = 0; i < y.length; i++) y[i] = (float) rng.nextGaussian();
            for (int i = 0; i < draws.length; i++) draws[i] = (float) rng.nextGaussian();
            return new Sketch(batch, d, s, rest, y, draws);
        }

        /** The directions one launch of `kernel` gives (Q_b's rows, then the projected probes). */
        float[] directions(HostEmulationLauncher launcher, String kernel) {
            DeviceBuffer yDevice = launcher.upload(y), out = launcher.upload(draws);
            long perSample = s + rest;
            try (KernelArgs args = new KernelArgs().pointer(yDevice).i64(batch).i64(d).i64(s).i64(perSample)
                    .f32((float) (1 / Math.sqrt(rest))).pointer(out)) {
                launcher.launch(launcher.function(kernel), Dim3.of(batch), Dim3.of(THREADS), 0, args);
            }
            return launcher.readFloats(out, draws.length);
        }

        /** Worst over samples of ‖(I − QQᵀ)Y_b‖_F/‖Y_b‖_F. */
        double spanResidual(float[] directions) {
            double worst = 0;
            for (int b = 0; b < batch; b++) {
                double residual = 0, norm = 0;
                int q0 = b * (s + rest) * d;
                for (int k = 0; k < s; k++) {
                    double[] r = new double[d];
                    for (int j = 0; j < d; j++) r[j] = y[(b * s + k) * d + j];
                    for (double v : r) norm += v * v;
                    for (int c = 0; c < s; c++) {
                        double dot = 0;
                        for (int j = 0; j < d; j++) dot += directions[q0 + c * d + j] * (double) y[(b * s + k) * d + j];
                        for (int j = 0; j < d; j++) r[j] -= dot * directions[q0 + c * d + j];
                    }
                    for (double v : r) residual += v * v;
                }
                worst = Math.max(worst, Math.sqrt(residual / norm));
            }
            return worst;
        }
    }

    private static ParityResult row(HostEmulationLauncher launcher, String kernel) {
        for (ParityResult r : KernelParityChecks.scheduleRows(launcher)) if (r.op().equals("schedule " + kernel)) return r;
        throw new AssertionError("no schedule row for " + kernel + " in " + KernelParityChecks.scheduleRows(launcher));
    }

    private static void print(ParityResult r) {
        System.out.println(r.summary());
        for (String pair : r.worstPairs()) System.out.println("    " + pair);
    }

    @Test
    void comparingSchedulesCatchesVersion1OfTheHutchppRaceAndPassesTheFix() {
        long inputSeed = System.nanoTime(), seed = HostEmulationLauncher.configuredOrFreshScheduleSeed();
        System.out.println("inputs seed " + inputSeed + ", schedule seed " + seed);
        SplittableRandom rng = new SplittableRandom(inputSeed);
        String racy = "ebm_test_hutchpp_directions_v1_f32", fixed = "ebm_hutchpp_directions_f32";
        for (int s : new int[] {2, 3, 4}) {
            // 32 samples, one block each: the shuffle puts thread k before thread 0 in about half of them
            Sketch sketch = Sketch.random(rng, 32, 9, s, 2);
            try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
                HostEmulationLauncher recording = HostEmulationLauncher.comparingSchedules(seed,
                        HostEmulationLauncher.OnDifference.RECORD, Map.of());
                try (recording) {
                    double racyResidual = sketch.spanResidual(sketch.directions(recording, racy));
                    double fixedResidual = sketch.spanResidual(sketch.directions(recording, fixed));
                    ParityResult racyRow = row(recording, racy), fixedRow = row(recording, fixed);
                    System.out.printf("sketch %d, D=9, 32 samples: worst ‖(I − QQᵀ)Y‖/‖Y‖ in thread order: version 1 %.2e, fixed %.2e%n",
                            s, racyResidual, fixedResidual);
                    print(racyRow);
                    print(fixedRow);
                    assertTrue(fixedRow.passed(), fixedRow.summary());
                    assertTrue(fixedResidual < 1e-5, "fixed kernel's Q does not span Y: " + fixedResidual);
                    if (s == 2) { // the race needs a column k ≥ 1 with a later column to update: none with 2
                        assertTrue(racyRow.passed(), racyRow.summary());
                        assertTrue(racyResidual < 1e-5, "version 1 with 2 sketch vectors: " + racyResidual);
                    } else {
                        assertFalse(racyRow.passed(), "the comparison must catch version 1's race: " + racyRow.summary());
                        assertTrue(racyResidual > 1e-2, "version 1's Q should miss part of span(Y) in thread order: " + racyResidual);
                    }
                }
                if (s > 2) { // the parity tests' launcher fails the launch, naming the kernel and the seed
                    IllegalStateException e = assertThrows(IllegalStateException.class, () -> sketch.directions(launcher, racy));
                    System.out.println("parity-test launcher: " + e.getMessage());
                    assertTrue(e.getMessage().startsWith(racy + ": in thread order and shuffled (schedule seed "), e.getMessage());
                    sketch.directions(launcher, fixed);
                }
            }
        }
    }

    @Test
    void aKernelListedAsScheduleDependentIsComparedToItsTolerance() {
        HostBuild.skipWithoutCompiler();
        long inputSeed = System.nanoTime(), seed = HostEmulationLauncher.configuredOrFreshScheduleSeed();
        System.out.println("inputs seed " + inputSeed + ", schedule seed " + seed);
        SplittableRandom rng = new SplittableRandom(inputSeed);
        float[] x = new float[1024];
        for (int i = 0; i < x.length; i++) x[i] = (float) (1 + rng.nextDouble()); // positive: no cancellation
        String kernel = "ebm_test_atomic_sum_f32";
        // 1024 fp32 additions of terms in [1, 2) in any order: each rounding ≤ 2^-24 of a partial sum ≤ the total,
        // so two orders differ by at most 1024·2^-24 ≈ 6e-5 of the sum
        var tolerance = new HostEmulationLauncher.ScheduleTolerance(1e-4, "fp32 atomicAdd of 1024 positive terms, in thread order");
        for (Map<String, HostEmulationLauncher.ScheduleTolerance> listed : List.of(Map.<String, HostEmulationLauncher.ScheduleTolerance>of(),
                Map.of(kernel, tolerance))) {
            try (HostEmulationLauncher launcher = HostEmulationLauncher.comparingSchedules(seed, HostEmulationLauncher.OnDifference.RECORD, listed)) {
                DeviceBuffer xDevice = launcher.upload(x);
                for (int launch = 0; launch < 4; launch++) {
                    DeviceBuffer sum = launcher.upload(new float[1]);
                    try (KernelArgs args = new KernelArgs().pointer(xDevice).pointer(sum)) {
                        launcher.launch(launcher.function(kernel), Dim3.of(1), Dim3.of(1024), 0, args);
                    }
                }
                ParityResult r = row(launcher, kernel);
                print(r);
                if (listed.isEmpty()) {
                    assertFalse(r.passed(), "float atomics in another order must change some bits: " + r.summary());
                } else {
                    assertTrue(r.passed(), r.summary());
                    assertTrue(r.worstError() > 0 && r.worstError() <= tolerance.relative(), r.summary());
                }
            }
        }
    }

    @Test
    void onlyTheArenaPiecesALaunchPointsIntoAreCompared() {
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip()) {
            DeviceArena arena = new DeviceArena(launcher); // one 16 MiB chunk
            DeviceBuffer a = arena.allocate(4L * 1000, "a"), b = arena.allocate(4L * 3000, "b");
            new DeviceKernels(launcher).fillF32(Grid.blocks(4), b.address(), 3000, 2.5f);
            ParityResult r = row(launcher, "ebm_fill_f32");
            print(r);
            assertTrue(r.passed(), r.summary());
            assertEquals("1 launches, 12032 B", r.shapes(), "b's piece alone (12000 bytes rounded up to 256), not the chunk");
            assertEquals(2.5f, launcher.readFloats(b, 3000)[2999], 0f);
            assertTrue(a.address() < b.address());
        }
    }
}
