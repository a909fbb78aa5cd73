package ebm.optim;

/**
 * A stateful optimizer over one flat parameter buffer, written as the update rule θ ← H(θ, F(−η∇J)):
 * F transforms the raw (already clipped) gradient, H applies it with the scheduled learning rate and
 * decoupled weight decay.
 */
public interface Optimizer {
    /** One update of params in place from the raw gradient (already clipped). lrScale is the schedule's factor multiplying every base learning rate of this optimizer (Muon's inner AdamW too). */
    void step(double[] params, double[] grad, double lrScale);

    /** Number of steps taken. */
    long steps();

    /** Everything needed to resume bitwise (named copies of buffers; counters encoded as 1-element arrays). */
    java.util.Map<String, double[]> state();

    void loadState(java.util.Map<String, double[]> state);

    /** Per-step diagnostics of the last step (for metrics logs), e.g. "adam_v_spread", "muon_orthogonality_error", "shampoo_cond_left_max", "shampoo_root_failures"; may be empty. */
    java.util.Map<String, Double> diagnostics();
}
