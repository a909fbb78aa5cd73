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

    /** D for the per-dimension trace; the row-space one (and auto, which picks it when D > H₁) carries min(D, H₁). */
    @Override
    public int directionsPerSample(int dim, int firstWidth) {
        return trace == TraceAlgorithm.PER_DIMENSION ? dim : Math.min(dim, firstWidth);
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
