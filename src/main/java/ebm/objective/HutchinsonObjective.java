package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/**
 * J = mean[−(1/K) Σ_k v_kᵀ∇²ₓE v_k + ½‖∇ₓE‖²]: ½‖∇E‖² stays exact (one reverse pass) and only the trace is
 * estimated, with K probes per sample (sliced SM's variance-reduced form).
 */
public record HutchinsonObjective(int probes, ProbeDistribution distribution, long seed) implements ProbeObjective {

    public HutchinsonObjective {
        LossInputs.requireProbes(probes);
    }

    @Override
    public String name() {
        return "hutchinson";
    }

    @Override
    public <T extends Tensor> T losses(Ops<T> ops, BoundEnergy<T> energy, LossInputs<T> in) {
        T trace = energy.alongDirections(in.x(), in.directions(), probes).secondDerivativeSum();
        return ops.combine(trace, ops.rowSumSquares(energy.gradX(in.x())), -1.0 / probes, 0.5);
    }
}
