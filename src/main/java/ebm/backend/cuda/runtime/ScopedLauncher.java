package ebm.backend.cuda.runtime;

import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A launcher that remembers what was allocated through it and frees exactly that on {@link #close()}, leaving the
 * launcher it wraps open: what a training step, a sampler or a benchmark case holds on a device shared with later
 * work (one runtime for a whole benchmark run, say) goes back when it is done, not when the runtime closes.
 * Everything else (launches, copies, capture, timing) is the wrapped launcher's.
 */
public final class ScopedLauncher implements KernelLauncher {
    private final KernelLauncher target;
    private final Map<Long, DeviceBuffer> owned = new LinkedHashMap<>();
    private boolean closed;

    public ScopedLauncher(KernelLauncher target) {
        this.target = target;
    }

    /** The launcher this one allocates on. */
    public KernelLauncher target() {
        return target;
    }

    /** Buffers allocated here and not freed yet. */
    public synchronized int liveAllocations() {
        return owned.size();
    }

    @Override
    public String description() {
        return target.description();
    }

    @Override
    public KernelFunction function(String name) {
        return target.function(name);
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        return allocate(bytes, "unnamed buffer");
    }

    @Override
    public DeviceBuffer allocate(long bytes, String label) {
        synchronized (this) {
            if (closed) throw new IllegalStateException("allocation of '" + label + "' after the scope was closed");
        }
        DeviceBuffer buffer = target.allocate(bytes, label);
        synchronized (this) {
            owned.put(buffer.address(), buffer);
        }
        return buffer;
    }

    @Override
    public void noteSubAllocation(DeviceBuffer piece) {
        target.noteSubAllocation(piece);
    }

    /** Frees a buffer allocated through this scope (it is then not freed again on close). */
    @Override
    public void free(DeviceBuffer buffer) {
        synchronized (this) {
            if (owned.remove(buffer.address()) == null) {
                throw new IllegalArgumentException("0x" + Long.toHexString(buffer.address()) + " was not allocated through this scope");
            }
        }
        target.free(buffer);
    }

    @Override
    public void copyToDevice(MemorySegment src, DeviceBuffer dst) {
        target.copyToDevice(src, dst);
    }

    @Override
    public void copyToHost(DeviceBuffer src, MemorySegment dst) {
        target.copyToHost(src, dst);
    }

    @Override
    public void launch(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        target.launch(function, grid, block, sharedBytes, args);
    }

    @Override
    public void launchAsync(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        target.launchAsync(function, grid, block, sharedBytes, args);
    }

    @Override
    public void synchronize() {
        target.synchronize();
    }

    @Override
    public Graph capture(Runnable body) {
        return target.capture(body);
    }

    @Override
    public float elapsedMillis(Runnable body) {
        return target.elapsedMillis(body);
    }

    @Override
    public void poison(DeviceBuffer buffer) {
        target.poison(buffer);
    }

    /**
     * Frees every buffer still owned, newest first (each free waits for the work queued before it), and refuses
     * allocations from then on; the wrapped launcher stays open. Tries every buffer: the first failure is thrown
     * with the others suppressed. Closing twice does nothing.
     */
    @Override
    public void close() {
        DeviceBuffer[] buffers;
        synchronized (this) {
            if (closed) return;
            closed = true;
            buffers = owned.values().toArray(DeviceBuffer[]::new);
            owned.clear();
        }
        RuntimeException failure = null;
        for (int i = buffers.length - 1; i >= 0; i--) {
            try {
                target.free(buffers[i]);
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }
}
