package ebm.optim;

import ebm.EbmException;
import ebm.model.ParamView;

/**
 * Muon: momentum EMA (optionally Nesterov), Newton–Schulz orthogonalisation, decoupled weight decay, on the hidden
 * weight matrices (and the first layer's when muonFirstLayer); everything else goes to the inner AdamW with
 * its own learning rate. {@link #defaults}: μ = 0.95, Nesterov, 5 Newton–Schulz steps, λ = 0, first layer to AdamW.
 *
 * @param lr             Muon's base learning rate, > 0 (optimizer.lr)
 * @param momentum       μ in [0, 1) (optimizer.momentum)
 * @param nesterov       update (1 − μ)g + μb instead of b (optimizer.nesterov)
 * @param nsSteps        Newton–Schulz steps in [1, 100] (optimizer.ns_steps)
 * @param weightDecay    decoupled λ ≥ 0 for the Muon matrices (optimizer.weight_decay)
 * @param muonFirstLayer route the first layer's weight to Muon too (optimizer.muon_first_layer)
 * @param inner          the AdamW for everything else, with its own lr and weight decay (optimizer.adamw.*)
 */
public record MuonOptions(double lr, double momentum, boolean nesterov, int nsSteps, double weightDecay,
                          boolean muonFirstLayer, AdamWOptions inner) implements OptimizerSpec {

    public static final int DEFAULT_NS_STEPS = 5;

    public MuonOptions {
        OptionChecks.positive("optimizer.lr", lr);
        OptionChecks.unitHalfOpen("optimizer.momentum", momentum);
        OptionChecks.intAtLeast("optimizer.ns_steps", nsSteps, 1);
        if (nsSteps > 100) {
            throw new EbmException("optimizer.ns_steps = " + nsSteps + " is not allowed: it must be in [1, 100]");
        }
        OptionChecks.nonNegative("optimizer.weight_decay", weightDecay);
        if (inner == null) {
            throw new EbmException("optimizer.adamw is missing: Muon needs an inner AdamW for non-matrix parameters");
        }
    }

    /** Whether Muon orthogonalises this parameter (the hidden weights, the first layer's when asked); else the inner AdamW. */
    public boolean orthogonalises(ParamView view) {
        return view.role() == ParamView.Role.HIDDEN_WEIGHT
                || (view.role() == ParamView.Role.FIRST_WEIGHT && muonFirstLayer);
    }

    /** Muon with μ = 0.95 Nesterov, 5 steps, no weight decay, and PyTorch-default AdamW at innerLr for the rest. */
    public static MuonOptions defaults(double lr, double innerLr) {
        return new MuonOptions(lr, 0.95, true, DEFAULT_NS_STEPS, 0, false, AdamWOptions.defaults(innerLr));
    }
}
