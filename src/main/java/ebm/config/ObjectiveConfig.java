package ebm.config;

import static ebm.config.Check.or;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import ebm.model.TraceAlgorithm;
import ebm.objective.ProbeDistribution;

/** objective.*: which score-matching loss and its knobs (ARCHITECTURE.md §3). */
@JsonPropertyOrder({"name", "trace", "probes", "probe_dist", "sigma", "sigma_max", "sigma_min", "levels"})
public record ObjectiveConfig(String name, String trace, Integer probes, String probeDist, Double sigma,
                              Double sigmaMax, Double sigmaMin, Integer levels) {
    public static final String[] NAMES = {"exact", "hutchinson", "sliced", "hutch++", "denoising", "annealed-denoising"};

    public ObjectiveConfig {
        name = Check.oneOf("objective.name", or(name, "exact"), NAMES);
        trace = trace == null ? "auto" : trace;
        TraceAlgorithm.parse(trace);
        probes = Check.atLeast("objective.probes", or(probes, 1), 1);
        probeDist = probeDist == null ? "gaussian" : probeDist;
        ProbeDistribution.parse(probeDist);
        sigma = Check.positive("objective.sigma", or(sigma, 0.1));
        sigmaMax = Check.positive("objective.sigma_max", or(sigmaMax, 1.0));
        sigmaMin = Check.positive("objective.sigma_min", or(sigmaMin, 0.01));
        levels = Check.atLeast("objective.levels", or(levels, 10), 2);
        if (name.equals("annealed-denoising") && !(sigmaMin < sigmaMax)) {
            throw new ebm.EbmException("objective.sigma_min (" + sigmaMin + ") must be below objective.sigma_max (" + sigmaMax + ")");
        }
    }
}
