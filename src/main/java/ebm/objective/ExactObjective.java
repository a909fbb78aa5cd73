package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.model.TraceAlgorithm;
import ebm.tape.Node;

/** Hyvärinen's objective J = mean[−ΔE + ½‖∇ₓE‖²] with the exact Hessian trace. */
public record ExactObjective(TraceAlgorithm trace) implements Objective {

    @Override
    public String name() {
        return "exact";
    }

    @Override
    public Objective.Result run(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        int d = model.dim();
        return Losses.mean(model, params, batch, grad, (tape, energy, from, to) -> {
            BoundEnergy.Exact e = energy.exact(tape.constant(Losses.rows(x, d, from, to), to - from, d), trace);
            return tape.combine(e.laplacian(), e.gradNormSquared(), -1, 0.5);
        });
    }
}
