package ebm.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The one path every kernel launch takes: look up an extern "C" kernel in the loaded module, move buffers, launch
 * with grid/block/args. {@link HostEmulationLauncher} runs the host build of kernels/ (CI, no GPU);
 * {@link DriverLauncher} runs the fatbin on a GPU through the driver API (cuModuleLoadDataEx, cuModuleGetFunction,
 * cuLaunchKernel through libcuda.so.1).
 */
public interface KernelLauncher extends AutoCloseable {

    /** What runs the kernels, for reports ("host emulation of kernels/ (g++ build)", a GPU's name). */
    String description();

    /** The kernel with this extern "C" name; an error naming it when the module has none. */
    KernelFunction function(String name);

    DeviceBuffer allocate(long bytes);

    /** Copies src (heap or native) to the start of dst. */
    void copyToDevice(MemorySegment src, DeviceBuffer dst);

    /** Copies the first dst.byteSize() bytes of src into dst (heap or native). */
    void copyToHost(DeviceBuffer src, MemorySegment dst);

    /** Launches and waits for the kernel to finish (parity checks need no asynchrony). */
    void launch(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args);

    /**
     * Queues the kernel without waiting (the training step); {@link #synchronize()} waits. A launcher without
     * asynchrony (the host emulation) simply runs it.
     */
    default void launchAsync(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        launch(function, grid, block, sharedBytes, args);
    }

    /** Waits for every queued launch and copy to finish; nothing to wait for where launches are synchronous. */
    default void synchronize() {}

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
