package ebm.data;

import ebm.rng.RandomStream;

/** A named 2-D toy density sampled one independent draw at a time from its {@link DrawLayout}. */
abstract class PlanarToy implements Density {
    private final String name;
    private final DrawLayout layout;

    PlanarToy(String name, DrawLayout layout) {
        this.name = name;
        this.layout = layout;
    }

    /** Writes sample s (2 values) to out[off], out[off + 1]. */
    abstract void draw(RandomStream rng, DrawLayout layout, long s, double[] out, int off);

    @Override
    public String name() {
        return name;
    }

    @Override
    public int dim() {
        return 2;
    }

    @Override
    public double[] sample(RandomStream rng, long firstSample, int n) {
        double[] out = new double[2 * n];
        for (int i = 0; i < n; i++) draw(rng, layout, firstSample + i, out, 2 * i);
        return out;
    }
}
