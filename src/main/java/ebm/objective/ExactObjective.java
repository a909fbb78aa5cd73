package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.model.TraceAlgorithm;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/** Hyvärinen's objective J = mean[−ΔE + ½‖∇ₓE‖²] with the exact Hessian trace. */
public record ExactObjective(TraceAlgorithm trace) implements Objective {

    @Override
    public String name() {
        return "exact";
    }

    @Override
    public <T extends Tensor> LossInputs<T> inputs(Ops<T> ops, Draws<T> draws, BoundEnergy<T> frozen, T x) {
        return LossInputs.points(x);
    }

    @Override
    public <T extends Tensor> T losses(Ops<T> ops, BoundEnergy<T> energy, LossInputs<T> in) {
        BoundEnergy.Exact<T> e = energy.exact(in.x(), trace);
        return ops.combine(e.laplacian(), e.gradNormSquared(), -1, 0.5);
    }
}
