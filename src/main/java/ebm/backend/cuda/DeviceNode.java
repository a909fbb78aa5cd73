package ebm.backend.cuda;

/**
 * A dense row-major [rows x cols] fp32 value in device memory on a {@link DeviceTape}, with its adjoint once the
 * tape has been run backwards: what the device's {@link ebm.tape.Ops} take and return.
 */
public final class DeviceNode implements ebm.tape.Tensor {
    final long value;
    final int rows;
    final int cols;
    final boolean requiresGrad;
    Runnable backward;
    /** Set on a node whose backward gathers the adjoints of others (the fused activation's three orders). */
    boolean backwardEvenWithoutAdjoint;
    long grad;

    DeviceNode(long value, int rows, int cols, boolean requiresGrad, long grad) {
        this.value = value;
        this.rows = rows;
        this.cols = cols;
        this.requiresGrad = requiresGrad;
        this.grad = grad;
    }

    /** Device address of the value. */
    public long address() {
        return value;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    public long size() {
        return (long) rows * cols;
    }

    public long bytes() {
        return 4L * size();
    }

    /** Device address of the adjoint, or 0 while nothing has reached this node. */
    public long gradAddress() {
        return grad;
    }
}
