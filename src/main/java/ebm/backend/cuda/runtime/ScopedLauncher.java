package ebm.backend.cuda.runtime;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A launcher that remembers what was allocated through it and frees exactly that on {@link #close()}, leaving the
 * launcher it wraps open: what a training step, a sampler or a benchmark case holds on a device shared with later
 * work (one runtime for a whole benchmark run, say) goes back when it is done, not when the runtime closes.
 * Everything else (launches, copies, capture, timing) is forwarded to the wrapped launcher.
 */
public final class ScopedLauncher extends ForwardingLauncher {
    private final Map<Long, DeviceBuffer> owned = new LinkedHashMap<>();
    private boolean closed;

    public ScopedLauncher(KernelLauncher target) {
        super(target);
    }

    /** Buffers allocated here and not freed yet. */
    public synchronized int liveAllocations() {
        return owned.size();
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
