package ebm.tape;

/**
 * A dense row-major [rows x cols] value on some backend's tape: what the {@link Ops} primitives take and return. The
 * shape and whether an adjoint is wanted are the same on every backend; where the values live is the subclass's.
 */
public abstract class Tensor {
    public final int rows;
    public final int cols;
    /** Whether the loss is differentiated with respect to this value (a trainable leaf, or computed from one). */
    public final boolean requiresGrad;

    protected Tensor(int rows, int cols, boolean requiresGrad) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape " + rows + "x" + cols);
        this.rows = rows;
        this.cols = cols;
        this.requiresGrad = requiresGrad;
    }

    public final int rows() {
        return rows;
    }

    public final int cols() {
        return cols;
    }

    public final boolean requiresGrad() {
        return requiresGrad;
    }

    /** Whether any of the inputs of an op needs its adjoint, and so the op's output does. */
    public static boolean anyRequiresGrad(Tensor... inputs) {
        for (Tensor t : inputs) if (t.requiresGrad) return true;
        return false;
    }

    /** An op's precondition on its inputs' shapes: the message names the op and the sizes it got. */
    public static void requireShape(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException(what);
    }

    /** An op's precondition that `row` is a [1 x cols] row vector matching `a`'s width. */
    public static void requireRow(String op, Tensor a, Tensor row) {
        requireShape(row.rows == 1 && row.cols == a.cols, op + " needs a [1 x " + a.cols + "] row, got " + row.rows + "x" + row.cols);
    }
}
