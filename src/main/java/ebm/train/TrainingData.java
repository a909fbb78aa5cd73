package ebm.train;

import ebm.data.Density;
import ebm.io.Npy;

/**
 * What a run trains on: train and validation points in the data's original coordinates, the true density where it
 * is known (else null), and the per-column standardisation (null when off) that the model sees its inputs through.
 */
public record TrainingData(String name, Npy.Matrix train, Npy.Matrix validation, Density density, double[] mean,
                           double[] std) {

    public int dim() {
        return train.cols();
    }

    public boolean standardized() {
        return mean != null;
    }

    /** The training points as the model sees them: (x − mean)/std when standardising. */
    public double[] modelTrainPoints() {
        if (!standardized()) return train.data();
        int d = dim();
        double[] x = train.data().clone();
        for (int i = 0; i < x.length; i++) x[i] = (x[i] - mean[i % d]) / std[i % d];
        return x;
    }
}
