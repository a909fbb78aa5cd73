package ebm.tape;

/**
 * A dense row-major [rows x cols] fp64 value on a {@link Tape}, with its adjoint once the tape has been run
 * backwards. Values are never mutated after the op that made them returns.
 */
public final class Node extends Tensor {
    public final double[] value;
    Runnable backward;
    double[] grad;

    Node(double[] value, int rows, int cols, boolean requiresGrad) {
        super(rows, cols, requiresGrad);
        if (value.length != rows * cols) {
            throw new IllegalArgumentException("value of length " + value.length + " is not " + rows + "x" + cols);
        }
        this.value = value;
    }

    public int size() {
        return value.length;
    }

    /** The adjoint dL/d(this) after {@link Tape#backward(Node)}; zeros when nothing reached this node. */
    public double[] grad() {
        if (grad == null) {
            grad = new double[value.length];
            Tape.countBytes(8L * value.length);
        }
        return grad;
    }

    public double scalar() {
        if (value.length != 1) throw new IllegalStateException("not a scalar: " + rows + "x" + cols);
        return value[0];
    }
}
