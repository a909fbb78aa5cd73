package ebm.tape;

/** A dense row-major [rows x cols] value on some backend's tape: what the {@link Ops} primitives take and return. */
public interface Tensor {
    int rows();

    int cols();
}
