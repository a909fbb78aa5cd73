package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/** The objectives whose inputs are the batch and K probe vectors per sample from the step's draws. */
public sealed interface ProbeObjective extends Objective permits HutchinsonObjective, SlicedObjective {
    int probes();

    ProbeDistribution distribution();

    @Override
    default int directionsPerSample(int dim, int firstWidth) {
        return probes();
    }

    @Override
    default <T extends Tensor> LossInputs<T> inputs(Ops<T> ops, Draws<T> draws, BoundEnergy<T> frozen, T x) {
        return LossInputs.probed(draws, distribution(), x, probes());
    }
}
