package ebm.objective;

import ebm.EbmException;
import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.rng.Streams;
import ebm.tape.Node;

/**
 * Song et al.'s sliced score matching: J = mean (1/K) Σ_k [−v_kᵀ∇²ₓE v_k + ½(v_kᵀ∇ₓE)²]. Both terms come from one
 * forward second-order pass along the probes; no reverse pass for ∇ₓE is needed.
 */
public record SlicedObjective(int probes, ProbeDistribution distribution, long seed) implements Objective {

    public SlicedObjective {
        if (probes < 1) throw new EbmException("objective.probes must be >= 1, got " + probes);
    }

    @Override
    public String name() {
        return "sliced";
    }

    @Override
    public Objective.Result run(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        int d = model.dim();
        double[] v = distribution.draw(seed, step, Streams.PROBES, batch * probes * d);
        return Losses.mean(model, params, batch, grad, (tape, energy, from, to) -> {
            Node xs = tape.constant(Losses.rows(x, d, from, to), to - from, d);
            Node vs = tape.constant(Losses.rows(v, probes * d, from, to), (to - from) * probes, d);
            BoundEnergy.Directional dir = energy.alongDirections(xs, vs, probes);
            Node projectedSq = tape.groupSumSquares(dir.firstDerivatives(), to - from);
            return tape.combine(dir.secondDerivativeSum(), projectedSq, -1.0 / probes, 0.5 / probes);
        });
    }
}
