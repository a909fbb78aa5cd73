package ebm.backend.cuda.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * Device memory for one training step's tape: a bump allocator over chunks obtained from the launcher once and
 * reused every step. {@link #reset()} rewinds it, and because a step allocates the same sizes in the same order
 * every time, every step sees the same addresses — which is what lets a captured CUDA graph (whose kernel arguments
 * are baked in) be replayed step after step. {@link #close()} gives the chunks back to the launcher.
 */
public final class DeviceArena implements AutoCloseable {
    private static final long ALIGNMENT = 256;
    private static final long MIN_CHUNK = 16L << 20;

    private final KernelLauncher launcher;
    private final List<DeviceBuffer> chunks = new ArrayList<>();
    private int chunk;
    private long offset;
    private long inUse;
    private long peak;
    private boolean frozen;
    private boolean closed;

    public DeviceArena(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /** bytes of device memory, 256-aligned; label names it in an out-of-memory error. */
    public DeviceBuffer allocate(long bytes, String label) {
        long size = Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        while (chunk < chunks.size() && offset + size > chunks.get(chunk).bytes()) {
            chunk++;
            offset = 0;
        }
        if (chunk == chunks.size()) {
            if (closed) throw new IllegalStateException("device memory (" + label + ") from a closed arena");
            if (frozen) {
                throw new IllegalStateException("the step asked for new device memory (" + label + ", " + bytes
                        + " bytes) after it was captured: its allocations must repeat exactly");
            }
            chunks.add(launcher.allocate(Math.max(MIN_CHUNK, size), label));
            offset = 0;
        }
        DeviceBuffer out = new DeviceBuffer(chunks.get(chunk).address() + offset, bytes);
        launcher.noteSubAllocation(new DeviceBuffer(out.address(), size));
        offset += size;
        inUse += size;
        peak = Math.max(peak, inUse);
        return out;
    }

    /** Rewinds to the first chunk: the next step's allocations get the previous step's addresses. */
    public void reset() {
        chunk = 0;
        offset = 0;
        inUse = 0;
    }

    /** After this, an allocation that does not fit the existing chunks is an error instead of a new chunk. */
    public void freeze() {
        frozen = true;
    }

    /** Bytes handed out at the busiest point of any step so far. */
    public long peakBytes() {
        return peak;
    }

    /** Bytes of device memory the arena holds. */
    public long reservedBytes() {
        long total = 0;
        for (DeviceBuffer b : chunks) total += b.bytes();
        return total;
    }

    /**
     * Frees every chunk (the launcher waits for the work queued before each free); the arena holds nothing after,
     * and allocating from it is an error. Closing twice does nothing. The first failure is thrown, the rest suppressed.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = null;
        for (DeviceBuffer b : chunks) {
            try {
                launcher.free(b);
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        chunks.clear();
        reset();
        if (failure != null) throw failure;
    }
}
