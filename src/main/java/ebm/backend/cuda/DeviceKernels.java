package ebm.backend.cuda;

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

    /** Kernel launches so far (GEMMs are counted by the caller). */
    public long launches() {
        return launches;
    }
}
