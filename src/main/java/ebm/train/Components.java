package ebm.train;

import ebm.config.ModelConfig;
import ebm.config.ObjectiveConfig;
import ebm.model.EnergyModel;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.model.Quadratic;
import ebm.model.TraceAlgorithm;
import ebm.objective.AnnealedDenoisingObjective;
import ebm.objective.DenoisingObjective;
import ebm.objective.ExactObjective;
import ebm.objective.HutchPlusPlusObjective;
import ebm.objective.HutchinsonObjective;
import ebm.objective.Objective;
import ebm.objective.ProbeDistribution;
import ebm.objective.SlicedObjective;
import ebm.tape.Activation;

/** Builds the model and objective a config names. */
public final class Components {
    private Components() {}

    public static EnergyModel model(ModelConfig config, int dim) {
        return switch (config.kind()) {
            case "mlp" -> new Mlp(new MlpSpec(dim, config.hiddenArray(), Activation.parse(config.activation())));
            case "quadratic" -> new Quadratic(dim, config.delta());
            default -> throw new IllegalStateException(config.kind());
        };
    }

    public static Objective objective(ObjectiveConfig c, long seed) {
        ProbeDistribution dist = ProbeDistribution.parse(c.probeDist());
        return switch (c.name()) {
            case "exact" -> new ExactObjective(TraceAlgorithm.parse(c.trace()));
            case "hutchinson" -> new HutchinsonObjective(c.probes(), dist, seed);
            case "sliced" -> new SlicedObjective(c.probes(), dist, seed);
            case "hutch++" -> new HutchPlusPlusObjective(c.probes(), dist, seed);
            case "denoising" -> new DenoisingObjective(c.sigma(), seed);
            case "annealed-denoising" -> new AnnealedDenoisingObjective(
                    AnnealedDenoisingObjective.geometricLevels(c.sigmaMax(), c.sigmaMin(), c.levels()), seed);
            default -> throw new IllegalStateException(c.name());
        };
    }

    /**
     * The factor folded into the exported energy: 1/σ_min for annealed denoising (its lowest-noise energy), else 1.
     */
    public static double exportEnergyScale(ObjectiveConfig c) {
        return c.name().equals("annealed-denoising") ? 1.0 / c.sigmaMin() : 1.0;
    }

    /** The noise level whose noised density a denoising objective targets, or null. */
    public static Double targetNoise(ObjectiveConfig c) {
        return switch (c.name()) {
            case "denoising" -> c.sigma();
            case "annealed-denoising" -> c.sigmaMin();
            default -> null;
        };
    }
}
