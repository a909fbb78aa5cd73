package ebm.backend.cuda.runtime;

import ebm.backend.cuda.bindings.CudaDriver;
import java.lang.foreign.MemorySegment;

/**
 * An instantiated CUDA graph captured by {@link DriverLauncher#capture}: replaying it queues the whole recorded
 * sequence with one cuGraphLaunch on the launcher's stream. Arguments are baked in at capture; per-step values
 * (step counter, Philox key, learning rate, bias corrections) must be read from device memory by the kernels.
 */
public final class CudaGraph implements KernelLauncher.Graph {
    private final DriverLauncher launcher;
    private final MemorySegment graph;
    private final MemorySegment exec;
    private boolean closed;

    CudaGraph(DriverLauncher launcher, MemorySegment graph, MemorySegment exec) {
        this.launcher = launcher;
        this.graph = graph;
        this.exec = exec;
    }

    /** Queues one replay on the launcher's stream and returns; {@link DriverLauncher#synchronize()} or a copy waits. */
    public void replay() {
        if (closed) throw new IllegalStateException("the CUDA graph is closed");
        launcher.makeCurrent();
        CudaDriver.graphLaunch(exec, launcher.stream());
    }

    /** Destroys the executable graph and the graph (after the replays queued so far finished). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        launcher.forget(this);
        launcher.synchronize();
        try {
            CudaDriver.graphExecDestroy(exec);
        } finally {
            CudaDriver.graphDestroy(graph);
        }
    }
}
