package ebm.objective;

import ebm.model.EnergyModel;

/**
 * A score-matching loss J(θ) on a batch, with its parameter gradient. Random draws (probes, noise) are keyed by
 * (seed, step), so the same step always sees the same draws, on every backend and after a resume.
 */
public interface Objective {
    /**
     * @param x     the batch, row-major [batch x D]
     * @param grad  when not null, receives dJ/dθ (overwritten), laid out as params
     * @return J on this batch
     */
    double evaluate(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad);

    /** Name as written in configs. */
    String name();
}
