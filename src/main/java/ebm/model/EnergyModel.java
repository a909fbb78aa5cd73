package ebm.model;

import ebm.tape.Node;
import ebm.tape.Ops;
import ebm.tape.Tape;
import ebm.tape.Tensor;

/**
 * An energy E_θ: R^D → R whose parameters live in one flat buffer laid out by {@link #layout()}, written once over
 * the {@link Ops} primitives so it runs on every backend.
 */
public interface EnergyModel {
    int dim();

    ParamLayout layout();

    /** Fresh parameters, deterministic in the seed. */
    double[] initialParams(long seed);

    /** Puts the parameters on a backend's tape. */
    <T extends Tensor> BoundEnergy<T> bind(Ops<T> ops, Parameters<T> params);

    /** On the CPU tape, the parameters as constants (evaluation, sampling); for a gradient bind {@link TapeParameters}. */
    default BoundEnergy<Node> bind(Tape tape, double[] params) {
        return bind(tape, new TapeParameters(tape, params, false));
    }
}
