package ebm.backend.cuda.parity;

import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.CublasBlas;
import ebm.backend.cuda.runtime.CudaGraph;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.DriverLauncher;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.rng.RandomStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What only a GPU can check, run by {@code ebm validate} on a GPU and by DriverLauncherGpuTest: CUDA graph replay
 * reading its per-step values from device memory, and cuBLAS at every precision ({@link BlasParityChecks}).
 */
public final class GpuOnlyChecks {
    private GpuOnlyChecks() {}

    /** The graph check, then the cuBLAS checks at FP32 (the runtime's handle), TF32 and BF16 (handles of their own). */
    public static List<ParityResult> all(GpuRuntime runtime, long seed) {
        List<ParityResult> results = new ArrayList<>();
        results.add(graphReplayReadsStepFromDevice(runtime.launcher(), seed));
        results.addAll(new BlasParityChecks(runtime.blas(), runtime.launcher(), seed).all());
        for (Blas.GemmPrecision p : List.of(Blas.GemmPrecision.TF32, Blas.GemmPrecision.BF16)) {
            try (CublasBlas blas = new CublasBlas(runtime.launcher(), p)) {
                results.addAll(new BlasParityChecks(blas, runtime.launcher(), seed).all());
            }
        }
        return results;
    }

    /**
     * Captures one probes launch whose Philox key (seed, step) lives in device memory, then replays the graph twice,
     * changing the step in device memory in between: each replay must equal the CPU reference for its own step, and
     * the two must differ (a step baked into the graph would give the same words twice).
     */
    public static ParityResult graphReplayReadsStepFromDevice(DriverLauncher launcher, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        KernelParityChecks checks = new KernelParityChecks(launcher, seed);
        DeviceKernels kernels = DeviceKernels.waiting(launcher); // inside a capture a waiting launch only records
        int n = 4099, stream = random.nextInt(1 << 20);
        long philoxSeed = random.nextLong(), step1 = random.nextLong() >>> 1, step2 = step1 + 1;
        DeviceBuffer out = launcher.allocate(4L * n, "graph check output");
        DeviceBuffer key = checks.philoxKey(philoxSeed, step1);
        Runnable probes = () -> kernels.probesWordsU32(KernelParityChecks.probesGrid(n), out.address(), n, 0, stream,
                key.address());
        probes.run(); // eagerly once, so the kernel is looked up (and its parameters read) before capture
        int[] first, second;
        try (CudaGraph graph = launcher.capture(probes)) {
            launcher.poison(out);
            graph.replay();
            first = launcher.readInts(out, n);
            launcher.write(key, new long[] {philoxSeed, step2});
            launcher.poison(out);
            graph.replay();
            second = launcher.readInts(out, n);
        } finally {
            launcher.free(out);
            launcher.free(key);
        }
        RandomStream ref1 = new RandomStream(philoxSeed, step1, stream), ref2 = new RandomStream(philoxSeed, step2, stream);
        int mismatches = 0, same = 0;
        List<String> pairs = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            int want1 = ref1.word(e), want2 = ref2.word(e);
            if (first[e] != want1 || second[e] != want2) {
                if (pairs.size() < 3) {
                    pairs.add(String.format("word %d: replay 1 %08x (reference %08x), replay 2 %08x (reference %08x)", e,
                            first[e], want1, second[e], want2));
                }
                mismatches++;
            }
            if (first[e] == second[e]) same++;
        }
        if (pairs.isEmpty()) {
            for (int e = 0; e < 3; e++) pairs.add(String.format("word %d: replay 1 %08x, replay 2 %08x", e, first[e], second[e]));
        }
        String problem = same > n / 100 ? same + " of " + n + " words equal in both replays (was the step baked into the graph?)" : null;
        return new ParityResult("graph replay, step read from device", "probes n=" + n + ", 2 replays", "uint32", mismatches, 0,
                "mismatched words", problem, pairs);
    }
}
