package ebm.data;

import ebm.EbmException;
import ebm.HeapLimits;
import ebm.io.Npy;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import java.util.List;

/**
 * The registry of synthetic densities by name, and the streams their data are drawn from: the train split is
 * {@code sample(RandomStream(seed, 0, DATA), 0, n)}, the validation split the same with step 1, and the random
 * parameters of "gaussian" and "mixture" come from step {@link #PARAMETER_STEP} of the same stream id.
 */
public final class DataSources {
    private DataSources() {}

    /** Step of stream {@link Streams#DATA} that the random densities' parameters are drawn from. */
    public static final long PARAMETER_STEP = 2;

    public static final List<String> NAMES = List.of("two-peaks", "8gaussians", "rings", "2spirals", "checkerboard",
            "moons", "pinwheel", "swissroll", "gaussian", "mixture");

    /** The 2-D toys need no options; pass null or options with dim 2. */
    public static Density byName(String name, long seed, SyntheticOptions options) {
        boolean toy = NAMES.indexOf(name) >= 0 && NAMES.indexOf(name) < 8;
        if (toy && options != null && options.dim() != 2) {
            throw new EbmException("data '" + name + "' is a 2-D toy; dim " + options.dim() + " was asked for");
        }
        SyntheticOptions o = options != null ? options : SyntheticOptions.defaults(2);
        RandomStream params = new RandomStream(seed, PARAMETER_STEP, Streams.DATA);
        return switch (name) {
            case "two-peaks" -> ToyDensities.twoPeaks();
            case "8gaussians" -> ToyDensities.eightGaussians();
            case "rings" -> ToyDensities.rings();
            case "2spirals" -> ToyDensities.twoSpirals();
            case "checkerboard" -> ToyDensities.checkerboard();
            case "moons" -> ToyDensities.moons();
            case "pinwheel" -> ToyDensities.pinwheel();
            case "swissroll" -> ToyDensities.swissRoll();
            case "gaussian" -> GaussianDensity.random(params, o.dim(), o.meanScale(), o.scale(), o.conditionNumber());
            case "mixture" -> GaussianMixture.random(params, o.dim(), o.components(), o.meanScale(), o.scale(),
                    o.conditionNumber());
            default -> throw new EbmException("unknown data source '" + name + "'; known: " + String.join(", ", NAMES)
                    + " (or a path to a .npy/.csv file)");
        };
    }

    /**
     * Refuses to draw `n` points of dimension `dim` when their array cannot exist or `copies` of it (the
     * standardised copy a run keeps, say) cannot fit the heap; `key` is the key or flag that set n.
     */
    public static void requireDrawable(String key, int n, int dim, int copies) {
        String setting = key + " = " + n;
        HeapLimits.requireArray(setting, n, dim, "reduce " + key);
        HeapLimits.requireHeap(setting + " at D = " + dim, (long) n * dim * Double.BYTES * copies, "reduce " + key);
    }

    /** n training points: samples 0..n-1 of stream (seed, step 0, DATA). */
    public static Npy.Matrix trainSamples(Density density, long seed, int n) {
        return new Npy.Matrix(n, density.dim(), density.sample(new RandomStream(seed, 0, Streams.DATA), 0, n));
    }

    /** n validation points: samples 0..n-1 of stream (seed, step 1, DATA). */
    public static Npy.Matrix validationSamples(Density density, long seed, int n) {
        return new Npy.Matrix(n, density.dim(), density.sample(new RandomStream(seed, 1, Streams.DATA), 0, n));
    }
}
