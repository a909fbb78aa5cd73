package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/**
 * The denoising objectives: their inputs are the noised batch and a target, and each sample's loss is
 * ½‖∇ₓE(x̃) − target‖² (the target ε/σ at one level; ε itself for the annealed form, whose weight σ² cancels the 1/σ).
 */
public sealed interface NoiseObjective extends Objective permits DenoisingObjective, AnnealedDenoisingObjective {
    /**
     * The part of the mean loss that does not depend on θ, for D inputs: ½E‖target‖² (the cross term and ½E‖∇E‖² are
     * the rest). Only plots use it, to show the loss without it.
     */
    double thetaFreeConstant(int dim);

    @Override
    default <T extends Tensor> T losses(Ops<T> ops, BoundEnergy<T> energy, LossInputs<T> in) {
        return ops.scale(ops.rowSumSquares(ops.sub(energy.gradX(in.x()), in.target())), 0.5);
    }
}
