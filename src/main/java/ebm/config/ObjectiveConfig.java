package ebm.config;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import ebm.model.TraceAlgorithm;
import ebm.objective.ProbeDistribution;

/** objective.*: which score-matching loss and its knobs (ARCHITECTURE.md §3). */
@JsonPropertyOrder({"name", "trace", "probes", "probe_dist", "sigma", "sigma_max", "sigma_min", "levels"})
public record ObjectiveConfig(String name, String trace, Integer probes, String probeDist, Double sigma,
                              Double sigmaMax, Double sigmaMin, Integer levels) {
    public static final String[] NAMES = {"exact", "hutchinson", "sliced", "hutch++", "denoising", "annealed-denoising"};

    public ObjectiveConfig {
        name = name == null ? "exact" : name;
        Check.oneOf("objective.name", name, NAMES);
        trace = trace == null ? "auto" : trace;
        TraceAlgorithm.parse(trace);
        probes = probes == null ? 1 : probes;
        Check.atLeast("objective.probes", probes, 1);
        probeDist = probeDist == null ? "gaussian" : probeDist;
        ProbeDistribution.parse(probeDist);
        sigma = sigma == null ? 0.1 : sigma;
        Check.positive("objective.sigma", sigma);
        sigmaMax = sigmaMax == null ? 1.0 : sigmaMax;
        Check.positive("objective.sigma_max", sigmaMax);
        sigmaMin = sigmaMin == null ? 0.01 : sigmaMin;
        Check.positive("objective.sigma_min", sigmaMin);
        levels = levels == null ? 10 : levels;
        Check.atLeast("objective.levels", levels, 2);
        if (name.equals("annealed-denoising") && !(sigmaMin < sigmaMax)) {
            throw new ebm.EbmException("objective.sigma_min (" + sigmaMin + ") must be below objective.sigma_max (" + sigmaMax + ")");
        }
    }
}
