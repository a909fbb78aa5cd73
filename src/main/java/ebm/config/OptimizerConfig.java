package ebm.config;

import static ebm.config.Check.or;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import ebm.optim.AdamWOptions;
import ebm.optim.MuonOptions;
import ebm.optim.OptimizerSpec;
import ebm.optim.SgdOptions;
import ebm.optim.ShampooOptions;

/**
 * optimizer.*: one flat set of keys for every optimizer (ARCHITECTURE.md §3). Keys an optimizer does not use are kept at
 * their defaults; those whose default depends on the optimizer (momentum, nesterov) resolve by `name`.
 * adam_lr is the learning rate of Muon's inner AdamW (first layer, vectors, output layer). {@link #spec()} is the
 * section parsed into the typed options of the optimizer it names, which is what both backends build from.
 */
@JsonPropertyOrder({"name", "lr", "weight_decay", "momentum", "dampening", "nesterov", "beta1", "beta2", "eps",
        "adam_lr", "ns_steps", "muon_first_layer", "root_every", "start_step", "max_precond_dim", "precond_eps"})
public record OptimizerConfig(String name, Double lr, Double weightDecay, Double momentum, Double dampening,
                              Boolean nesterov, Double beta1, Double beta2, Double eps, Double adamLr, Integer nsSteps,
                              Boolean muonFirstLayer, Integer rootEvery, Integer startStep, Integer maxPrecondDim,
                              Double precondEps) {
    public static final String[] NAMES = {"sgd", "adamw", "muon", "shampoo"};

    public OptimizerConfig {
        name = Check.oneOf("optimizer.name", or(name, "adamw"), NAMES);
        lr = Check.positive("optimizer.lr", or(lr, name.equals("muon") ? 0.02 : name.equals("sgd") ? 0.01 : 1e-3));
        weightDecay = Check.nonNegative("optimizer.weight_decay", or(weightDecay, 0.0));
        momentum = Check.inRange("optimizer.momentum", or(momentum, name.equals("muon") ? 0.95 : 0.0), 0, 1, false);
        dampening = Check.inRange("optimizer.dampening", or(dampening, 0.0), 0, 1, true);
        nesterov = nesterov == null ? name.equals("muon") : nesterov;
        if (name.equals("sgd") && nesterov && (momentum <= 0 || dampening != 0)) {
            throw new ebm.EbmException("optimizer.nesterov: needs optimizer.momentum > 0 and optimizer.dampening = 0 (got "
                    + momentum + " and " + dampening + ")");
        }
        beta1 = Check.inRange("optimizer.beta1", or(beta1, 0.9), 0, 1, false);
        beta2 = Check.inRange("optimizer.beta2", or(beta2, 0.999), 0, 1, false);
        eps = Check.positive("optimizer.eps", or(eps, 1e-8));
        adamLr = Check.positive("optimizer.adam_lr", or(adamLr, 1e-3));
        nsSteps = Check.atLeast("optimizer.ns_steps", or(nsSteps, 5), 1);
        muonFirstLayer = muonFirstLayer != null && muonFirstLayer;
        rootEvery = Check.atLeast("optimizer.root_every", or(rootEvery, 10), 1);
        startStep = Check.atLeast("optimizer.start_step", or(startStep, 10), 1);
        maxPrecondDim = Check.atLeast("optimizer.max_precond_dim", or(maxPrecondDim, 1024), 1);
        precondEps = Check.positive("optimizer.precond_eps", or(precondEps, 1e-12));
    }

    /**
     * The named optimizer's options from these keys (the only place a name becomes an optimizer): Muon's inner AdamW
     * takes adam_lr with the shared beta1, beta2, eps and weight_decay; Shampoo's graft takes beta1, beta2 and eps,
     * its statistics precond_eps.
     */
    public OptimizerSpec spec() {
        return switch (name) {
            case "sgd" -> new SgdOptions(lr, momentum, dampening, nesterov, weightDecay);
            case "adamw" -> new AdamWOptions(lr, beta1, beta2, eps, weightDecay);
            case "muon" -> new MuonOptions(lr, momentum, nesterov, nsSteps, weightDecay, muonFirstLayer,
                    new AdamWOptions(adamLr, beta1, beta2, eps, weightDecay));
            case "shampoo" -> new ShampooOptions(lr, precondEps, rootEvery, startStep, maxPrecondDim, weightDecay, beta1,
                    beta2, eps);
            default -> throw new IllegalStateException("optimizer.name " + name + " passed the check of NAMES"); // unreachable
        };
    }

    static OptimizerConfig defaults() {
        return defaults(null);
    }

    /** Every key at its default for the named optimizer. */
    static OptimizerConfig defaults(String name) {
        return new OptimizerConfig(name, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }
}
