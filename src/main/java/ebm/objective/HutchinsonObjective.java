package ebm.objective;

import ebm.EbmException;
import ebm.model.EnergyModel;
import ebm.rng.Streams;
import ebm.tape.Node;

/**
 * J = mean[−(1/K) Σ_k v_kᵀ∇²ₓE v_k + ½‖∇ₓE‖²]: ½‖∇E‖² stays exact (one reverse pass) and only the trace is
 * estimated, with K probes per sample (sliced SM's variance-reduced form).
 */
public record HutchinsonObjective(int probes, ProbeDistribution distribution, long seed) implements Objective {

    public HutchinsonObjective {
        if (probes < 1) throw new EbmException("objective.probes must be >= 1, got " + probes);
    }

    @Override
    public String name() {
        return "hutchinson";
    }

    @Override
    public Objective.Result run(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        int d = model.dim();
        double[] v = distribution.draw(seed, step, Streams.PROBES, batch * probes * d);
        return Losses.mean(model, params, batch, grad, (tape, energy, from, to) -> {
            Node xs = tape.constant(Losses.rows(x, d, from, to), to - from, d);
            Node vs = tape.constant(Losses.rows(v, probes * d, from, to), (to - from) * probes, d);
            Node trace = energy.alongDirections(xs, vs, probes).secondDerivativeSum();
            return tape.combine(trace, tape.rowSumSquares(energy.gradX(xs)), -1.0 / probes, 0.5);
        });
    }
}
