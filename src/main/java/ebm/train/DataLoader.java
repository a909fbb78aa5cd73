package ebm.train;

import ebm.config.DataConfig;
import ebm.config.RunConfig;
import ebm.data.DataSources;
import ebm.data.DataSplit;
import ebm.data.Density;
import ebm.data.GaussianDensity;
import ebm.data.GaussianMixture;
import ebm.data.Standardization;
import ebm.data.SyntheticOptions;
import ebm.data.UserData;
import ebm.io.Npy;
import java.nio.file.Path;
import java.util.List;

/** Builds a run's train/validation points from data.*: a named density, or a user file. */
public final class DataLoader {
    private DataLoader() {}

    public static TrainingData load(RunConfig config) {
        DataConfig c = config.data();
        long seed = c.seed() != null ? c.seed() : config.seed();
        if (c.name().equals("file")) {
            Path path = Path.of(c.path());
            Npy.Matrix all = UserData.load(path, c.dim() == null ? -1 : c.dim());
            int validation = Math.max(1, Math.min(c.nVal(), all.rows() / 5));
            if (all.rows() < 2) throw new ebm.EbmException(path + ": needs at least 2 rows to split, has " + all.rows());
            // Split in original coordinates; the trainer applies the standardisation (fitted on the train split).
            DataSplit split = UserData.split(all, path.toString(), seed, validation, false);
            Standardization st = c.standardize() ? Standardization.fit(split.train(), path.toString()) : null;
            return withStandardization(path.getFileName().toString(), split.train(), split.validation(), null, st);
        }
        Density density = givenDensity(c);
        if (density == null) {
            density = DataSources.byName(c.name(), seed,
                    new SyntheticOptions(c.dim(), c.components(), c.condition(), c.meanScale(), c.scale()));
        }
        // the train points, and their standardised copy the trainer keeps
        DataSources.requireDrawable("data.n_train", c.nTrain(), density.dim(), c.standardize() ? 2 : 1);
        DataSources.requireDrawable("data.n_val", c.nVal(), density.dim(), 1);
        Npy.Matrix train = DataSources.trainSamples(density, seed, c.nTrain());
        Npy.Matrix validation = DataSources.validationSamples(density, seed, c.nVal());
        Standardization st = c.standardize() ? Standardization.fit(train, c.name()) : null;
        return withStandardization(c.name(), train, validation, density, st);
    }

    /** A Gaussian or mixture whose parameters the config gives outright, or null. */
    private static Density givenDensity(DataConfig c) {
        if (c.mean() != null) {
            return new GaussianDensity(vector("data.mean", c.mean()), matrix("data.covariance", c.covariance(), c.dim()));
        }
        if (c.means() == null) return null;
        int k = c.means().size();
        if (c.covariances().size() != k || (c.weights() != null && c.weights().size() != k)) {
            throw new ebm.EbmException("data.means, data.covariances (and data.weights) must list the same number of "
                    + "components, got " + k + ", " + c.covariances().size() + (c.weights() == null ? "" : ", " + c.weights().size()));
        }
        double[] weights = new double[k];
        double[][] means = new double[k][];
        double[][] covariances = new double[k][];
        for (int i = 0; i < k; i++) {
            weights[i] = c.weights() == null ? 1.0 : c.weights().get(i);
            means[i] = vector("data.means[" + i + "]", c.means().get(i));
            covariances[i] = matrix("data.covariances[" + i + "]", c.covariances().get(i), c.dim());
        }
        return new GaussianMixture("mixture", weights, means, covariances);
    }

    private static double[] vector(String key, List<Double> values) {
        double[] v = new double[values.size()];
        for (int i = 0; i < v.length; i++) {
            if (values.get(i) == null || !Double.isFinite(values.get(i))) {
                throw new ebm.EbmException(key + "[" + i + "] must be a finite number, got " + values.get(i));
            }
            v[i] = values.get(i);
        }
        return v;
    }

    /** A D x D symmetric matrix given as a list of rows. */
    private static double[] matrix(String key, List<List<Double>> rows, int d) {
        if (rows.size() != d) throw new ebm.EbmException(key + " must have " + d + " rows, got " + rows.size());
        double[] m = new double[d * d];
        for (int i = 0; i < d; i++) {
            if (rows.get(i).size() != d) {
                throw new ebm.EbmException(key + "[" + i + "] must have " + d + " entries, got " + rows.get(i).size());
            }
            System.arraycopy(vector(key + "[" + i + "]", rows.get(i)), 0, m, i * d, d);
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                if (Math.abs(m[i * d + j] - m[j * d + i]) > 1e-12 * (Math.abs(m[i * d + j]) + Math.abs(m[j * d + i]))) {
                    throw new ebm.EbmException(key + " is not symmetric: [" + i + "][" + j + "] = " + m[i * d + j]
                            + " but [" + j + "][" + i + "] = " + m[j * d + i]);
                }
            }
        }
        return m;
    }

    private static TrainingData withStandardization(String name, Npy.Matrix train, Npy.Matrix validation, Density density,
                                                    Standardization st) {
        return new TrainingData(name, train, validation, density, st == null ? null : st.mean(), st == null ? null : st.std());
    }
}
