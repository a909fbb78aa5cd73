package ebm.backend.cuda.kernels;

import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import ebm.backend.cuda.runtime.KernelArgs;
import ebm.backend.cuda.runtime.KernelLauncher;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Launches the grid-stride kernels of kernels/ by name: functions looked up once, every launch queued on the
 * launcher (so a step can be captured), and counted, so a step can say how many launches it takes.
 */
public final class DeviceKernels {
    /** Threads per block of every grid-stride kernel (and of the tree reductions, which need a power of two). */
    public static final int THREADS = 256;
    /** Enough blocks to fill an H100 (132 SMs × 16 blocks of 256); grid-stride loops cover any larger n. */
    public static final int MAX_BLOCKS = 2048;

    private final KernelLauncher launcher;
    private final Map<String, KernelFunction> functions = new HashMap<>();
    private long launches;

    public DeviceKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    public KernelLauncher launcher() {
        return launcher;
    }

    public static int blocksFor(long work) {
        return (int) Math.max(1, Math.min(MAX_BLOCKS, (work + THREADS - 1) / THREADS));
    }

    /** Launches `name` over `work` elements (grid-stride), with arguments written by `args`. */
    public void launch(String name, long work, Consumer<KernelArgs> args) {
        launch(name, blocksFor(work), args);
    }

    /** Launches `name` with an explicit number of blocks of {@link #THREADS} threads. */
    public void launch(String name, int blocks, Consumer<KernelArgs> args) {
        KernelFunction f = functions.computeIfAbsent(name, launcher::function);
        try (KernelArgs a = new KernelArgs()) {
            args.accept(a);
            launcher.launchAsync(f, Dim3.of(blocks), Dim3.of(THREADS), 0, a);
        }
        launches++;
    }

    /** out[0..n) = value. */
    public void fill(long out, long n, float value) {
        launch("ebm_fill_f32", n, a -> a.i64(out).i64(n).f32(value));
    }

    /** to[0..n) = from[0..n). */
    public void copy(long from, long to, long n) {
        launch("ebm_combine_f32", n, a -> a.i64(from).i64(0).i64(n).f32(1f).f32(0f).i32(0).i64(to));
    }

    /** Floats of scratch a {@link #dot} needs for its block partials. */
    public static final int DOT_PARTIALS = 256;

    /**
     * *out = Σ x·y over n elements: block partials into `partials` ({@link #DOT_PARTIALS} floats), then one block
     * over them; no atomics, so the same bits on every run.
     */
    public void dot(long x, long y, long n, long partials, long out) {
        int blocks = Math.min(DOT_PARTIALS, blocksFor(n));
        launch("ebm_reduce_dot_f32", blocks, a -> a.i64(x).i64(y).i64(n).f32(1f).i64(partials));
        launch("ebm_reduce_sum_f32", 1, a -> a.i64(partials).i64(blocks).f32(1f).i64(out));
    }

    /** Kernel launches so far (GEMMs are counted by the caller). */
    public long launches() {
        return launches;
    }
}
