package ebm.backend.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A kernel's arguments marshalled the way cuLaunchKernel reads them: {@code void** kernelParams}, one pointer per
 * argument to a slot holding its value (a device pointer, an int, ...). The types must match the kernel's C
 * signature in order; the host build checks the count, the driver cannot. A graph captured from a launch bakes
 * these values in, which is why kernels read per-step values from device memory instead.
 */
public final class KernelArgs implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final List<MemorySegment> slots = new ArrayList<>();

    public KernelArgs pointer(DeviceBuffer buffer) {
        return i64(buffer.address());
    }

    public KernelArgs i32(int value) {
        MemorySegment slot = arena.allocate(ValueLayout.JAVA_INT);
        slot.set(ValueLayout.JAVA_INT, 0, value);
        slots.add(slot);
        return this;
    }

    public KernelArgs i64(long value) {
        MemorySegment slot = arena.allocate(ValueLayout.JAVA_LONG);
        slot.set(ValueLayout.JAVA_LONG, 0, value);
        slots.add(slot);
        return this;
    }

    public KernelArgs f32(float value) {
        MemorySegment slot = arena.allocate(ValueLayout.JAVA_FLOAT);
        slot.set(ValueLayout.JAVA_FLOAT, 0, value);
        slots.add(slot);
        return this;
    }

    public int count() {
        return slots.size();
    }

    /** The byte size of argument k's slot (4 for i32/f32, 8 for i64/pointers), checked against the kernel's own. */
    long slotBytes(int k) {
        return slots.get(k).byteSize();
    }

    /** The value of 8-byte argument k (a pointer or an i64), for the host build's schedule comparison. */
    long slotLong(int k) {
        return slots.get(k).get(ValueLayout.JAVA_LONG, 0);
    }

    /** The {@code void**} array: element k points at argument k's slot. Lives as long as these args. */
    public MemorySegment kernelParams() {
        MemorySegment params = arena.allocate(ValueLayout.ADDRESS, Math.max(1, slots.size()));
        for (int k = 0; k < slots.size(); k++) params.setAtIndex(ValueLayout.ADDRESS, k, slots.get(k));
        return params;
    }

    @Override
    public void close() {
        arena.close();
    }
}
