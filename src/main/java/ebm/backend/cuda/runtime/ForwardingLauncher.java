package ebm.backend.cuda.runtime;

import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import java.lang.foreign.MemorySegment;

/**
 * A launcher that passes every call to another one: the base of the launchers that change one thing about a launcher
 * they wrap (what is freed on close, say, or, in tests, what is recorded or refused) and forward the rest, so that a
 * call added to {@link KernelLauncher} is forwarded in one place.
 */
public abstract class ForwardingLauncher implements KernelLauncher {
    protected final KernelLauncher target;

    protected ForwardingLauncher(KernelLauncher target) {
        this.target = target;
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
        return target.allocate(bytes);
    }

    @Override
    public DeviceBuffer allocate(long bytes, String label) {
        return target.allocate(bytes, label);
    }

    @Override
    public void noteSubAllocation(DeviceBuffer piece) {
        target.noteSubAllocation(piece);
    }

    @Override
    public void free(DeviceBuffer buffer) {
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

    /** Closes nothing: the wrapped launcher belongs to whoever opened it. */
    @Override
    public void close() {}
}
