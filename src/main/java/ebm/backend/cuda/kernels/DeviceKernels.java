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
        launch(name, blocks, THREADS, args);
    }

    /** Launches `name` with explicit numbers of blocks and threads per block. */
    public void launch(String name, int blocks, int threads, Consumer<KernelArgs> args) {
        KernelFunction f = functions.computeIfAbsent(name, launcher::function);
        try (KernelArgs a = new KernelArgs()) {
            args.accept(a);
            launcher.launchAsync(f, Dim3.of(blocks), Dim3.of(threads), 0, a);
        }
        launches++;
    }

    /**
     * Threads per block of ebm_row_reduce_f32 for rows of m elements: the power of two at or above m, from one warp
     * up to 1024 (a short row leaves no block mostly idle; a long one gets the most threads a block has). It depends
     * on m alone, so a row's sum is the same bits whatever the number of rows or blocks.
     */
    public static int rowReduceThreads(long m) {
        int threads = 32;
        while (threads < m && threads < 1024) threads <<= 1;
        return threads;
    }

    /**
     * out[i] ⊕= scale · Σ_j x[i, j] · (y ? y[i, j] : 1) over the n rows of m elements (y = 0 for none): one block per
     * row (kernels/reduce.cu), at most {@link #MAX_BLOCKS} blocks striding over the rows.
     */
    public void rowReduce(long x, long y, long n, long m, float scale, boolean accumulate, long out) {
        int blocks = (int) Math.max(1, Math.min(MAX_BLOCKS, n));
        launch("ebm_row_reduce_f32", blocks, rowReduceThreads(m),
                a -> a.i64(x).i64(y).i64(n).i64(m).f32(scale).i32(accumulate ? 1 : 0).i64(out));
    }

    /**
     * *count (a uint64 in device memory) = the number of NaN and ±inf among x[0..n): zeroed, then counted by
     * kernels/reduce.cu's ebm_count_nonfinite_f32, without copying x to the host.
     */
    public void countNonFinite(long x, long n, long count) {
        fill(count, 2, 0f); // two fp32 zeros are the 64-bit zero
        launch("ebm_count_nonfinite_f32", Math.min(DOT_PARTIALS, blocksFor(n)), a -> a.i64(x).i64(n).i64(count));
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
