package ebm.config;

import static ebm.config.Check.or;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * data.*: a named toy or synthetic density, or a user file (name: file, path: X.npy|X.csv).
 * dim, components, condition, mean_scale and scale shape the synthetic densities (gaussian, mixture); seed, when
 * set, draws the data independently of the run's seed (so runs with different seeds can share one data set).
 * A gaussian or mixture can also be given outright: mean + covariance (D x D), or means + covariances (+ weights).
 * For a file, n_train is unused (all rows not held out train) and the validation split is min(n_val, N/5) rows.
 */
@JsonPropertyOrder({"name", "path", "dim", "n_train", "n_val", "standardize", "components", "condition", "mean_scale", "scale",
        "mean", "covariance", "weights", "means", "covariances", "seed"})
public record DataConfig(String name, String path, Integer dim, Integer nTrain, Integer nVal, Boolean standardize,
                         Integer components, Double condition, Double meanScale, Double scale,
                         List<Double> mean, List<List<Double>> covariance, List<Double> weights, List<List<Double>> means,
                         List<List<List<Double>>> covariances, Long seed) {

    public DataConfig {
        name = name == null ? (path == null ? "two-peaks" : "file") : name;
        if (path != null && !name.equals("file")) {
            throw new ebm.EbmException("data.path is set, so data.name must be 'file' (or left out), got '" + name + "'");
        }
        if (name.equals("file") && path == null) throw new ebm.EbmException("data.name: 'file' needs data.path");
        // A given Gaussian or mixture fixes D; a file's width is whatever the file holds unless data.dim asks for a check.
        boolean given = mean != null || covariance != null || means != null || covariances != null || weights != null;
        if (given) {
            if (name.equals("gaussian") && (mean == null || covariance == null || means != null || covariances != null)) {
                throw new ebm.EbmException("data.name: gaussian with given parameters needs data.mean and data.covariance");
            }
            if (name.equals("mixture") && (means == null || covariances == null || mean != null || covariance != null)) {
                throw new ebm.EbmException("data.name: mixture with given parameters needs data.means and data.covariances"
                        + " (data.weights optional, equal by default)");
            }
            if (!name.equals("gaussian") && !name.equals("mixture")) {
                throw new ebm.EbmException("data.mean/covariance/weights/means/covariances apply to data.name gaussian or "
                        + "mixture, not '" + name + "'");
            }
            int givenDim = name.equals("gaussian") ? mean.size() : means.isEmpty() ? 0 : means.getFirst().size();
            if (dim != null && dim != givenDim) {
                throw new ebm.EbmException("data.dim is " + dim + " but the given mean has " + givenDim + " entries");
            }
            dim = givenDim;
        }
        if (!name.equals("file")) dim = dim == null ? 2 : dim;
        if (dim != null) Check.atLeast("data.dim", dim, 1);
        nTrain = Check.atLeast("data.n_train", or(nTrain, 20000), 1);
        nVal = Check.atLeast("data.n_val", or(nVal, 2000), 1);
        standardize = standardize != null && standardize;
        components = Check.atLeast("data.components", or(components, 8), 1);
        condition = condition == null ? 10.0 : condition;
        if (!(condition >= 1)) throw new ebm.EbmException("data.condition: must be >= 1, got " + condition);
        meanScale = Check.nonNegative("data.mean_scale", or(meanScale, 2.0));
        scale = Check.positive("data.scale", or(scale, 1.0));
    }
}
