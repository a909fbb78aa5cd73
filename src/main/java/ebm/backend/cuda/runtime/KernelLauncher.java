package ebm.backend.cuda.runtime;

import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import java.lang.foreign.MemorySegment;

/**
 * The one path every kernel launch takes: look up an extern "C" kernel in the loaded module, move buffers, launch
 * with grid/block/args. {@link HostEmulationLauncher} runs the host build of kernels/ (CI, no GPU); a driver-API
 * implementation (cuModuleLoadData, cuModuleGetFunction, cuLaunchKernel through libcuda.so.1) plugs in here.
 */
public interface KernelLauncher extends AutoCloseable {

    /** What runs the kernels, for reports ("host emulation of kernels/ (g++ build)", a GPU's name). */
    String description();

    /** The kernel with this extern "C" name; an error naming it when the module has none. */
    KernelFunction function(String name);

    DeviceBuffer allocate(long bytes);

    /** As {@link #allocate(long)}; label names the allocation in an out-of-memory error. */
    default DeviceBuffer allocate(long bytes, String label) {
        return allocate(bytes);
    }

    /**
     * Says that {@code piece}, part of an allocation of this launcher, is one buffer of its own ({@link DeviceArena}
     * calls it for each piece it hands out). Only the host build's schedule comparison uses it, to copy the pieces
     * a launch points into rather than a whole arena chunk.
     */
    default void noteSubAllocation(DeviceBuffer piece) {}

    /**
     * Returns a buffer from {@link #allocate} to the device (after the work queued before it); freeing one twice, or
     * one this launcher did not allocate, is an error. What is not freed goes when the launcher closes.
     */
    void free(DeviceBuffer buffer);

    /** Copies src (heap or native) to the start of dst. */
    void copyToDevice(MemorySegment src, DeviceBuffer dst);

    /** Copies the first dst.byteSize() bytes of src into dst (heap or native). */
    void copyToHost(DeviceBuffer src, MemorySegment dst);

    /** Launches and waits for the kernel to finish (parity checks need no asynchrony). */
    void launch(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args);

    /**
     * Queues the kernel without waiting (a GPU's stream; the host build runs it at once). The training step
     * launches this way, so that it can be captured into a CUDA graph; {@link #synchronize()} waits.
     */
    default void launchAsync(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        launch(function, grid, block, sharedBytes, args);
    }

    /** Waits for everything queued on this launcher. */
    default void synchronize() {}

    /**
     * Records the launches (and cuBLAS calls) body makes into a replayable CUDA graph, without running them; null
     * where the launcher cannot record (the host build), in which case the caller runs body itself every time.
     */
    default Graph capture(Runnable body) {
        return null;
    }

    /**
     * Milliseconds that what {@code body} queues takes to run, for benchmarks. A GPU times it between two events
     * recorded on its stream (device time only); the default, for launchers that run kernels at once (the host build),
     * is the host clock around {@code body} and a {@link #synchronize()}.
     */
    default float elapsedMillis(Runnable body) {
        long start = System.nanoTime();
        body.run();
        synchronize();
        return (System.nanoTime() - start) / 1e6f;
    }

    /** A captured sequence of launches; replaying it re-reads every argument's device memory, nothing else. */
    interface Graph extends AutoCloseable {
        void replay();

        @Override
        void close();
    }

    @Override
    void close();

    default DeviceBuffer upload(float[] values) {
        DeviceBuffer buffer = allocate(4L * values.length);
        copyToDevice(MemorySegment.ofArray(values), buffer);
        return buffer;
    }

    default DeviceBuffer upload(double[] values) {
        DeviceBuffer buffer = allocate(8L * values.length);
        copyToDevice(MemorySegment.ofArray(values), buffer);
        return buffer;
    }

    default DeviceBuffer upload(long[] values) {
        DeviceBuffer buffer = allocate(8L * values.length);
        copyToDevice(MemorySegment.ofArray(values), buffer);
        return buffer;
    }

    default void write(DeviceBuffer dst, float[] values) {
        copyToDevice(MemorySegment.ofArray(values), dst);
    }

    default void write(DeviceBuffer dst, long[] values) {
        copyToDevice(MemorySegment.ofArray(values), dst);
    }

    default void write(DeviceBuffer dst, double[] values) {
        copyToDevice(MemorySegment.ofArray(values), dst);
    }

    default float[] readFloats(DeviceBuffer src, int count) {
        float[] out = new float[count];
        copyToHost(src, MemorySegment.ofArray(out));
        return out;
    }

    default double[] readDoubles(DeviceBuffer src, int count) {
        double[] out = new double[count];
        copyToHost(src, MemorySegment.ofArray(out));
        return out;
    }

    default int[] readInts(DeviceBuffer src, int count) {
        int[] out = new int[count];
        copyToHost(src, MemorySegment.ofArray(out));
        return out;
    }

    /** fp32 device values as fp64 (the CPU reference's precision). */
    default double[] readFloatsAsDoubles(DeviceBuffer src, int count) {
        return Fp32.toDoubles(readFloats(src, count));
    }

    /** fp64 values rounded to fp32 into dst. */
    default void writeAsFloats(DeviceBuffer dst, double[] values) {
        write(dst, Fp32.toFloats(values));
    }

    default long[] readLongs(DeviceBuffer src, int count) {
        long[] out = new long[count];
        copyToHost(src, MemorySegment.ofArray(out));
        return out;
    }

    /** Fills a buffer with NaN bit patterns so that an output the kernel never wrote fails its parity check. */
    default void poison(DeviceBuffer buffer) {
        long words = buffer.bytes() / 8;
        long[] nan = new long[(int) words];
        java.util.Arrays.fill(nan, 0x7FF8_0000_7FC0_0000L); // a quiet NaN as fp64, and a quiet NaN in each fp32 half
        copyToDevice(MemorySegment.ofArray(nan), buffer);
        long tail = buffer.bytes() - 8 * words;
        if (tail > 0) {
            byte[] ones = new byte[(int) tail];
            java.util.Arrays.fill(ones, (byte) 0xFF);
            copyToDevice(MemorySegment.ofArray(ones), new DeviceBuffer(buffer.address() + 8 * words, tail));
        }
    }
}
