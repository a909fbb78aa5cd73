package ebm.objective;

import ebm.EbmException;
import ebm.model.BoundEnergy;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/**
 * Denoising score matching at one noise level: x̃ = x + σε, J = ½ mean‖∇ₓE(x̃) − ε/σ‖² (the score −∇E matches the
 * score of the noising kernel, −ε/σ). It learns the score of the noised density p_σ, not of p.
 */
public record DenoisingObjective(double sigma, long seed) implements NoiseObjective {

    public DenoisingObjective {
        if (!(sigma > 0) || !Double.isFinite(sigma)) throw new EbmException("objective.sigma must be > 0, got " + sigma);
    }

    @Override
    public String name() {
        return "denoising";
    }

    /** ½E‖ε/σ‖² = D/(2σ²); less this, the loss estimates the exact SM loss of the noised data p_σ. */
    @Override
    public double thetaFreeConstant(int dim) {
        return dim / (2 * sigma * sigma);
    }

    @Override
    public <T extends Tensor> LossInputs<T> inputs(Ops<T> ops, Draws<T> draws, BoundEnergy<T> frozen, T x) {
        return LossInputs.noised(draws.denoising(x, sigma));
    }

}
