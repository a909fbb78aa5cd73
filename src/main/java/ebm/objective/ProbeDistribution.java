package ebm.objective;

import ebm.EbmException;
import ebm.rng.RandomStream;

/** Distribution of Hutchinson/sliced probe vectors: both have E[vvᵀ] = I. */
public enum ProbeDistribution {
    GAUSSIAN("gaussian"),
    RADEMACHER("rademacher");

    private final String configName;

    ProbeDistribution(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static ProbeDistribution parse(String name) {
        for (ProbeDistribution p : values()) if (p.configName.equals(name)) return p;
        throw new EbmException("unknown objective.probe_dist '" + name + "'; allowed: gaussian, rademacher");
    }

    /** count values: element e is draw e of the stream, so a backend reproduces any element on its own. */
    public double[] draw(RandomStream rng, int count) {
        double[] v = new double[count];
        if (this == GAUSSIAN) rng.fillGaussian(v, 0, count, 0);
        else rng.fillRademacher(v, 0, count, 0);
        return v;
    }
}
