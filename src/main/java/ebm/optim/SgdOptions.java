package ebm.optim;

import ebm.EbmException;

/**
 * torch.optim.SGD: weight decay added to the gradient, momentum buffer b = g on the first step and
 * b ← μb + (1 − τ)g after, Nesterov steps along g + μb (needs τ = 0 and μ > 0).
 *
 * @param lr          base learning rate, > 0 (config key optimizer.lr)
 * @param momentum    μ in [0, 1); 0 turns the buffer off (optimizer.momentum)
 * @param dampening   τ in [0, 1] (optimizer.dampening)
 * @param nesterov    Nesterov momentum (optimizer.nesterov)
 * @param weightDecay λ ≥ 0, L2 added to the gradient, not decoupled (optimizer.weight_decay)
 */
public record SgdOptions(double lr, double momentum, double dampening, boolean nesterov, double weightDecay)
        implements OptimizerSpec {

    public SgdOptions {
        OptionChecks.positive("optimizer.lr", lr);
        OptionChecks.unitHalfOpen("optimizer.momentum", momentum);
        OptionChecks.unitClosed("optimizer.dampening", dampening);
        OptionChecks.nonNegative("optimizer.weight_decay", weightDecay);
        if (nesterov && dampening != 0) {
            throw new EbmException("optimizer.dampening = " + dampening
                    + " is not allowed with optimizer.nesterov = true: Nesterov momentum needs dampening 0");
        }
        if (nesterov && momentum == 0) {
            throw new EbmException("optimizer.momentum = " + momentum
                    + " is not allowed with optimizer.nesterov = true: Nesterov momentum needs momentum > 0");
        }
    }

    /** Plain SGD: no momentum, no dampening, no weight decay. */
    public static SgdOptions plain(double lr) {
        return new SgdOptions(lr, 0, 0, false, 0);
    }
}
