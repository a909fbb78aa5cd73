package ebm.objective;

import ebm.EbmException;
import ebm.model.EnergyModel;
import ebm.rng.Streams;
import ebm.tape.Node;

/**
 * Denoising score matching at one noise level: x̃ = x + σε, J = ½ mean‖∇ₓE(x̃) − ε/σ‖² (the score −∇E matches the
 * score of the noising kernel, −ε/σ). It learns the score of the noised density p_σ, not of p.
 */
public record DenoisingObjective(double sigma, long seed) implements Objective {

    public DenoisingObjective {
        if (!(sigma > 0) || !Double.isFinite(sigma)) throw new EbmException("objective.sigma must be > 0, got " + sigma);
    }

    @Override
    public String name() {
        return "denoising";
    }

    @Override
    public Objective.Result run(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        int d = model.dim();
        double[] eps = ProbeDistribution.GAUSSIAN.draw(seed, step, Streams.NOISE, batch * d);
        double[] noisy = new double[batch * d];
        double[] target = new double[batch * d];
        for (int i = 0; i < noisy.length; i++) {
            noisy[i] = x[i] + sigma * eps[i];
            target[i] = eps[i] / sigma;
        }
        return Losses.mean(model, params, batch, grad, (tape, energy, from, to) -> {
            Node gradX = energy.gradX(tape.constant(Losses.rows(noisy, d, from, to), to - from, d));
            Node residual = tape.sub(gradX, tape.constant(Losses.rows(target, d, from, to), to - from, d));
            return tape.scale(tape.rowSumSquares(residual), 0.5);
        });
    }
}
