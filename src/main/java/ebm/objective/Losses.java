package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.tape.Node;
import ebm.tape.Tape;

final class Losses {
    private Losses() {}

    /** Runs the backward sweep when a gradient is wanted and returns the loss value. */
    static double finish(Tape tape, BoundEnergy energy, Node loss, double[] grad) {
        if (grad != null) {
            tape.backward(loss);
            energy.collectGrad(grad);
        }
        return loss.scalar();
    }
}
