package ebm.objective;

import ebm.model.EnergyModel;

/**
 * A score-matching loss J(θ) on a batch, with its parameter gradient. Random draws (probes, noise) are keyed by
 * (seed, step), so the same step always sees the same draws, on every backend and after a resume.
 */
public sealed interface Objective permits ExactObjective, HutchinsonObjective, SlicedObjective, HutchPlusPlusObjective,
        DenoisingObjective, AnnealedDenoisingObjective {
    /**
     * @param x     the batch, row-major [batch x D]
     * @param grad  when not null, receives dJ/dθ (overwritten), laid out as params
     * @return J on this batch
     */
    default double evaluate(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        return run(model, params, x, batch, step, grad).loss();
    }

    /** As {@link #evaluate}, also returning the gradient-noise estimate of this batch. */
    Result run(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad);

    /**
     * The batch loss, and (when a gradient was computed and the batch has two halves) the gradient's noise-to-signal
     * ratio sqrt(tr Σ / B)/‖ḡ‖, with tr Σ, the per-sample gradient variance, estimated from the two half-batch mean
     * gradients: E‖ḡ_A − ḡ_B‖² = tr Σ (1/n_A + 1/n_B). Null when it cannot be estimated.
     */
    record Result(double loss, Double gradNoise) {}

    /**
     * Rows of the first half-batch of the gradient-noise estimate (0 when the batch cannot be split): the CPU's
     * chunking decides it, and other backends split the same way so that their estimates agree.
     */
    static int noiseSplitRows(int batch) {
        return Losses.firstHalfRows(batch);
    }

    /** Name as written in configs. */
    String name();
}
