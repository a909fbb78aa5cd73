package ebm.objective;

import ebm.EbmException;
import ebm.model.BoundEnergy;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/**
 * Annealed denoising with one network for every level: N geometric levels σ_1 > … > σ_N, one drawn
 * uniformly per sample; the energy at level σ is E_θ(x)/σ and the weight σ², so each sample's term is
 * ½‖∇ₓE_θ(x̃) − ε‖² with x̃ = x + σε. This shared-network form is weak in very low D, where one energy cannot
 * be the right shape at every scale.
 */
public record AnnealedDenoisingObjective(double[] sigmas, long seed) implements NoiseObjective {

    public AnnealedDenoisingObjective {
        sigmas = sigmas.clone();
        if (sigmas.length < 1) throw new EbmException("annealed denoising needs at least one noise level");
        for (int i = 0; i < sigmas.length; i++) {
            if (!(sigmas[i] > 0)) throw new EbmException("noise level " + i + " must be > 0, got " + sigmas[i]);
            if (i > 0 && !(sigmas[i] < sigmas[i - 1])) throw new EbmException("noise levels must decrease strictly");
        }
    }

    /** N levels from sigmaMax down to sigmaMin, geometrically spaced. */
    public static double[] geometricLevels(double sigmaMax, double sigmaMin, int levels) {
        if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin)) {
            throw new EbmException("need 0 < objective.sigma_min < objective.sigma_max, got " + sigmaMin + " and " + sigmaMax);
        }
        if (levels < 2) throw new EbmException("objective.levels must be >= 2, got " + levels);
        double[] s = new double[levels];
        for (int i = 0; i < levels; i++) s[i] = sigmaMax * Math.pow(sigmaMin / sigmaMax, i / (double) (levels - 1));
        return s;
    }

    public double sigmaMin() {
        return sigmas[sigmas.length - 1];
    }

    @Override
    public String name() {
        return "annealed-denoising";
    }

    /** ½E‖ε‖² = D/2, whatever the levels (the weight σ² cancels the 1/σ of every level's target). */
    @Override
    public double thetaFreeConstant(int dim) {
        return dim / 2.0;
    }

    @Override
    public <T extends Tensor> LossInputs<T> inputs(Ops<T> ops, Draws<T> draws, BoundEnergy<T> frozen, T x) {
        return LossInputs.noised(draws.annealedDenoising(x, sigmas));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AnnealedDenoisingObjective a && java.util.Arrays.equals(a.sigmas, sigmas) && a.seed == seed;
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(sigmas) * 31 + Long.hashCode(seed);
    }
}
