package ebm.train;

import ebm.config.OptimizerConfig;
import ebm.model.ParamLayout;
import ebm.optim.AdamWOptions;
import ebm.optim.MuonOptions;
import ebm.optim.Optimizer;
import ebm.optim.Optimizers;
import ebm.optim.SgdOptions;
import ebm.optim.ShampooOptions;

/** The optimizer a config names, over the model's parameter layout. */
public final class OptimizerFactory {
    private OptimizerFactory() {}

    public static Optimizer create(OptimizerConfig c, ParamLayout layout) {
        return switch (c.name()) {
            case "sgd" -> Optimizers.sgd(new SgdOptions(c.lr(), c.momentum(), c.dampening(), c.nesterov(), c.weightDecay()), layout);
            case "adamw" -> Optimizers.adamw(new AdamWOptions(c.lr(), c.beta1(), c.beta2(), c.eps(), c.weightDecay()), layout);
            case "muon" -> Optimizers.muon(new MuonOptions(c.lr(), c.momentum(), c.nesterov(), c.nsSteps(), c.weightDecay(),
                    c.muonFirstLayer(), new AdamWOptions(c.adamLr(), c.beta1(), c.beta2(), c.eps(), c.weightDecay())), layout);
            case "shampoo" -> Optimizers.shampoo(new ShampooOptions(c.lr(), c.precondEps(), c.rootEvery(), c.startStep(),
                    c.maxPrecondDim(), c.weightDecay(), c.beta1(), c.beta2(), c.eps()), layout);
            default -> throw new IllegalStateException(c.name());
        };
    }
}
