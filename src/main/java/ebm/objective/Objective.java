package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/**
 * A score-matching loss J(θ) on a batch, written once over the {@link Ops} primitives: {@link #inputs} draws what the
 * step needs (probes, noise; Hutch++'s sketch basis) for the whole batch, {@link #losses} is the per-sample loss on a
 * slice of it. A backend runs them (the CPU over chunks in parallel, the device over two half-batches) and owns the
 * mean and the gradient. Random draws are keyed by (seed, step), so the same step always sees the same draws, on
 * every backend and after a resume.
 */
public sealed interface Objective permits ExactObjective, ProbeObjective, HutchPlusPlusObjective, NoiseObjective {

    /** Name as written in configs. */
    String name();

    /** The key of the objective's draws (the exact objective draws nothing). */
    default long seed() {
        return 0;
    }

    /**
     * The step's inputs for the whole batch x [B x D], on ops' tape. frozen is the energy with its parameters as
     * constants (Hutch++'s Hessian-vector products go through it; the sketch is not differentiated).
     */
    <T extends Tensor> LossInputs<T> inputs(Ops<T> ops, Draws<T> draws, BoundEnergy<T> frozen, T x);

    /** The per-sample losses [rows x 1] on a slice of the inputs, with the energy being differentiated. */
    <T extends Tensor> T losses(Ops<T> ops, BoundEnergy<T> energy, LossInputs<T> in);

    /**
     * J on the batch x [batch x D] (row-major) on the CPU, in fp64; when grad is not null it receives dJ/dθ
     * (overwritten, laid out as params).
     */
    default double evaluate(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        return run(model, params, x, batch, step, grad).loss();
    }

    /** As {@link #evaluate}, also returning the gradient-noise estimate of this batch. */
    default Result run(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        return run(model, params, x, batch, step, grad, 1);
    }

    /**
     * As {@link #run}, the gradient accumulated over microBatches equal slices of the batch run one after another
     * (train.accumulate): the full batch's loss, gradient and noise estimate, to rounding, with a slice's memory.
     */
    default Result run(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad, int microBatches) {
        return Losses.mean(this, model, params, x, batch, step, grad, microBatches);
    }

    /**
     * The batch loss, and (when a gradient was computed and the batch has two halves) the gradient's noise-to-signal
     * ratio sqrt(tr Σ / B)/‖ḡ‖, with tr Σ, the per-sample gradient variance, estimated from the two half-batch mean
     * gradients: E‖ḡ_A − ḡ_B‖² = tr Σ (1/n_A + 1/n_B). Null when it cannot be estimated.
     */
    record Result(double loss, Double gradNoise) {}

    /**
     * Rows of the first half-batch of the gradient-noise estimate, a property of the batch alone: ⌈B/2⌉ (0 when the
     * batch has one sample). Every backend splits the same way, so their estimates agree.
     */
    /**
     * Directions per sample this objective pushes through the hidden layers (its second-order work), for an input
     * dimension and first hidden width: what a step's products, (B·r) × H by H × H, and its tape scale with. 1 for
     * the objectives that need the input gradient only.
     */
    default int directionsPerSample(int dim, int firstWidth) {
        return 1;
    }

    static int noiseSplitRows(int batch) {
        return batch < 2 ? 0 : (batch + 1) / 2;
    }

    /**
     * Rows of each chunk the CPU runs a gradient evaluation of this batch in (side by side, each single-threaded
     * inside): the shapes of the CPU step's products follow from them.
     */
    static int[] cpuGradientChunkRows(int batch) {
        return Losses.gradientChunkRows(batch);
    }
}
