package ebm.cli;

import ebm.data.DataSources;
import ebm.data.Density;
import ebm.data.SyntheticOptions;
import ebm.io.Npy;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "data", mixinStandardHelpOptions = true,
        description = {"Draw points from a built-in density into a .npy or .csv file.",
                "N rows, D columns: float64 .npy for a .npy name, CSV (header x1..xD) for a .csv name. For example, to "
                        + "try the user-data path: ebm data moons --n 4000 --out moons.npy"})
final class DataCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "two-peaks, 8gaussians, rings, 2spirals, checkerboard, moons, pinwheel, "
            + "swissroll, gaussian, mixture")
    String name;

    @Option(names = "--n", defaultValue = "2000", description = "Number of points (default ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--dim", defaultValue = "2", description = "D for gaussian and mixture (default ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--out", required = true, description = "The file to write: .npy (float64) or .csv.")
    Path out;

    @Override
    public Integer call() {
        if (n < 1) throw new ebm.EbmException("--n must be >= 1, got " + n);
        MatrixOutput.check("--out", out);
        Density density = DataSources.byName(name, seed, SyntheticOptions.defaults(dim));
        DataSources.requireDrawable("--n", n, density.dim(), 1);
        Npy.Matrix m = DataSources.trainSamples(density, seed, n);
        java.util.List<String> header = new java.util.ArrayList<>();
        for (int j = 1; j <= m.cols(); j++) header.add("x" + j);
        MatrixOutput.write("--out", out, header, m.rows(), m.cols(), m.data());
        System.out.printf("wrote %s: %d points from %s (D=%d, seed %d)%n", out, m.rows(), name, m.cols(), seed);
        return 0;
    }
}
