package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.model.TraceAlgorithm;
import ebm.tape.Node;
import ebm.tape.Tape;

/** Hyvärinen's objective J = mean[−ΔE + ½‖∇ₓE‖²] with the exact Hessian trace. */
public record ExactObjective(TraceAlgorithm trace) implements Objective {

    @Override
    public String name() {
        return "exact";
    }

    @Override
    public double evaluate(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        Tape tape = new Tape();
        BoundEnergy energy = model.bind(tape, params, grad != null);
        Node xs = tape.constant(x, batch, model.dim());
        BoundEnergy.Exact e = energy.exact(xs, trace);
        Node loss = tape.mean(tape.combine(e.laplacian(), e.gradNormSquared(), -1, 0.5));
        return Losses.finish(tape, energy, loss, grad);
    }
}
