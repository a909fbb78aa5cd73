package ebm.model;

import ebm.tape.Tape;

/** An energy E_θ: R^D → R whose parameters live in one flat buffer laid out by {@link #layout()}. */
public interface EnergyModel {
    int dim();

    ParamLayout layout();

    /** Fresh parameters, deterministic in the seed. */
    double[] initialParams(long seed);

    /** Puts the parameters on a tape; with trainable, their adjoints can be collected after a backward sweep. */
    BoundEnergy bind(Tape tape, double[] params, boolean trainable);
}
