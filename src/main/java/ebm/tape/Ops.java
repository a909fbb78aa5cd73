package ebm.tape;


/**
 * The engine's op interface: the batched primitives every energy, objective and sampler is written with, once.
 * The CPU tape ({@link Tape}, fp64) and the device tape (fp32, with the tf32/bf16 GEMM modes) implement it; each
 * primitive has a parity row in {@code ebm validate} and its adjoint is checked by finite differences. Ops record
 * themselves (and their adjoints) as they run; {@link #backward} runs the recorded adjoints in reverse.
 *
 * <p>"Grouped" tensors hold r rows per sample: row b*r + k is direction k of sample b.
 */
public interface Ops<T extends Tensor> {
    /** Runs the tape backwards from a scalar, seeding its adjoint with 1. */
    void backward(T loss);

    // ---- values that are not computed from other tensors ----

    /** Rows [from, from + count) of t as a constant (a slice of a batch, or of a per-sample group when t is grouped). */
    T rows(T t, int from, int count);

    /** A constant [rows x cols] filled with value. */
    T full(int rows, int cols, double value);

    /** A leaf with the values of t, whose adjoint {@link #adjoint} reads after the backward sweep (x for Hessian-vector products). */
    T inputVariable(T t);

    /** The adjoint a backward sweep left on a leaf made by {@link #inputVariable}, as a constant. */
    T adjoint(T leaf);

    // ---- products ----

    /** A [n x k] times B [m x k] transposed: [n x m]. */
    T matmulNT(T a, T b);

    /** A [n x k] times B [k x m]: [n x m]. */
    T matmulNN(T a, T b);

    T transpose(T a);

    // ---- elementwise ----

    /** σ, σ′, σ″ of z = pre + bias (a row); the adjoint of σ^(k) uses σ^(k+1), so σ‴ is kept (training through ΔE). */
    Activations<T> biasActivations(Activation act, T pre, T bias);

    /** alpha*A + beta*B for same-shaped A, B. */
    T combine(T a, T b, double alpha, double beta);

    default T add(T a, T b) {
        return combine(a, b, 1, 1);
    }

    default T sub(T a, T b) {
        return combine(a, b, 1, -1);
    }

    T scale(T a, double s);

    /** Elementwise product of same-shaped A and B. */
    T mul(T a, T b);

    // ---- row broadcasts ----

    /** A [n x m] plus the row vector b [1 x m] on every row. */
    T addRow(T a, T b);

    /** A [n x m] times the row vector v [1 x m], elementwise on every row. */
    T mulRow(T a, T v);

    // ---- grouped (per-direction) ops ----

    /** Row b*r+k of the result is a[b] ⊙ t[b*r+k]: a per-sample factor applied to each of its directions. */
    T groupMul(T a, T t);

    /** Row b*r+k of the result is a[b] ⊙ c[k]: per-sample factors times directions shared by all samples. */
    T sharedMul(T a, T c);

    /** [n*r x m] → [n x m]: each sample's directions summed. */
    T groupSum(T t, int n);

    /** [n*r x m] → [n x m]: each sample's directions squared and summed (Σ_dirs (∂z)²). */
    T groupSumSquares(T t, int n);

    /** [n x m] → [n*r x m]: each row repeated r times (a sample copied once per direction). */
    T repeatRows(T a, int r);

    // ---- reductions ----

    /** [n x m] → [n x 1]: Σ_j a_ij². */
    T rowSumSquares(T a);

    /** [n x m] → [n x 1]: Σ_j a_ij. */
    T rowSum(T a);

    /** [r x m] → [1 x m]: Σ_k c_kj² (the shared directions' squares, summed). */
    T colSumSquares(T c);

    /** Σ of all elements, as a [1 x 1] tensor. */
    T sum(T a);

    // ---- Hutch++ (constants: the sketch basis is not differentiated) ----

    /**
     * From draws [n·perSample x D] and x [n x D]: x repeated once per sketch vector and the first `sketch` draws of each
     * sample, both [n·sketch x D], the inputs of the batched Hessian-vector products.
     */
    SketchInputs<T> hutchPlusPlusSketch(T x, T draws, int sketch, int perSample);

    /**
     * Hutch++'s directions [n·(s+g) x D]: per sample, an orthonormal basis Q_b of span(hvp_b) (hvp: [n·s x D], the
     * Hessian times the sketch vectors; null when s = 0) in the first s rows, then the g other draws projected by
     * (I − QQᵀ) and scaled by 1/√g.
     */
    T hutchPlusPlusDirections(T hvp, T draws, int n, int sketch, int rest);

    /** σ(z), σ′(z), σ″(z). */
    record Activations<T>(T value, T first, T second) {}

    /** Hutch++'s sketch: x repeated per sketch vector, and the sketch vectors. */
    record SketchInputs<T>(T repeatedX, T vectors) {}
}
