package ebm.objective;

import ebm.ConfigNames;
import ebm.linalg.CpuThreads;
import ebm.rng.RandomStream;

/** Distribution of Hutchinson/sliced probe vectors: both have E[vvᵀ] = I. */
public enum ProbeDistribution {
    GAUSSIAN,
    RADEMACHER;

    /** As configs spell it: gaussian, rademacher. */
    public String configName() {
        return ConfigNames.of(this, false);
    }

    public static ProbeDistribution parse(String name) {
        return ConfigNames.parse(values(), ProbeDistribution::configName, "objective.probe_dist", name);
    }

    /**
     * count values: element e is draw e of the stream, so a backend reproduces any element on its own (and the
     * draws can be split across threads by element ranges without changing them).
     */
    public double[] draw(long seed, long step, int stream, int count) {
        double[] v = new double[count];
        int parts = count < 1 << 14 ? 1 : 8;
        int per = ((count + parts - 1) / parts + 3) & ~3; // whole Philox blocks per part
        CpuThreads.forEachChunk(parts, c -> {
            int from = Math.min(count, c * per), to = Math.min(count, from + per);
            RandomStream rng = new RandomStream(seed, step, stream);
            if (this == GAUSSIAN) rng.fillGaussian(v, from, to - from, from);
            else rng.fillRademacher(v, from, to - from, from);
        });
        return v;
    }
}
