package ebm.backend.cuda.tape;

import ebm.tape.Tensor;

/**
 * A dense row-major [rows x cols] fp32 value in device memory on a {@link DeviceTape}, with its adjoint once the
 * tape has been run backwards: what the device's {@link ebm.tape.Ops} take and return.
 */
public final class DeviceNode extends Tensor {
    final long value;
    Runnable backward;
    /** Set on a node whose backward gathers the adjoints of others (the fused activation's three orders). */
    boolean backwardEvenWithoutAdjoint;
    long grad;

    DeviceNode(long value, int rows, int cols, boolean requiresGrad, long grad) {
        super(rows, cols, requiresGrad);
        this.value = value;
        this.grad = grad;
    }

    /** Device address of the value. */
    public long address() {
        return value;
    }

    /** Elements, as a long: device tensors may pass 2³¹. */
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
