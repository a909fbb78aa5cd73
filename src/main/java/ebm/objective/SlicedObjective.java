package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/**
 * Song et al.'s sliced score matching: J = mean (1/K) Σ_k [−v_kᵀ∇²ₓE v_k + ½(v_kᵀ∇ₓE)²]. Both terms come from one
 * forward second-order pass along the probes; no reverse pass for ∇ₓE is needed.
 */
public record SlicedObjective(int probes, ProbeDistribution distribution, long seed) implements ProbeObjective {

    public SlicedObjective {
        LossInputs.requireProbes(probes);
    }

    @Override
    public String name() {
        return "sliced";
    }

    @Override
    public <T extends Tensor> T losses(Ops<T> ops, BoundEnergy<T> energy, LossInputs<T> in) {
        BoundEnergy.Directional<T> dir = energy.alongDirections(in.x(), in.directions(), probes);
        T projectedSq = ops.groupSumSquares(dir.firstDerivatives(), in.x().rows());
        return ops.combine(dir.secondDerivativeSum(), projectedSq, -1.0 / probes, 0.5 / probes);
    }
}
