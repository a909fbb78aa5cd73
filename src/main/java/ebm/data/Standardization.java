package ebm.data;

import ebm.EbmException;
import ebm.io.Npy;
import java.util.Arrays;

/**
 * Per-column affine map x' = (x - mean) / std. Fitted on the train split only (so validation points are scored
 * the way unseen data would be); the trainer folds it into the first layer when saving, so checkpoints describe
 * the energy in the original coordinates. std is the population (1/N) standard deviation.
 */
public record Standardization(double[] mean, double[] std) {
    /** A column whose train std is at most this fraction of max(|mean|, 1) counts as constant. */
    public static final double CONSTANT_COLUMN_TOLERANCE = 1e-12;

    public Standardization {
        if (mean.length != std.length) throw new IllegalArgumentException("mean and std lengths differ");
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] std() {
        return std.clone();
    }

    public int dim() {
        return mean.length;
    }

    /** mean 0, std 1: the map that changes nothing (used when standardisation is off). */
    public static Standardization identity(int dim) {
        double[] ones = new double[dim];
        Arrays.fill(ones, 1);
        return new Standardization(new double[dim], ones);
    }

    public boolean isIdentity() {
        for (int j = 0; j < mean.length; j++) if (mean[j] != 0 || std[j] != 1) return false;
        return true;
    }

    /**
     * Column means and stds of train. A (near-)constant column is an error rather than floored: dividing by a
     * floor would blow rounding noise up to unit scale, and a constant feature carries no information for the
     * density anyway. The message names the source and the 0-based column.
     */
    public static Standardization fit(Npy.Matrix train, String source) {
        int n = train.rows();
        int d = train.cols();
        if (n < 2) throw new EbmException(source + ": standardisation needs at least 2 training rows, found " + n);
        double[] mean = Moments.mean(train.data(), n, d);
        double[] var = new double[d];
        double[] x = train.data();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double c = x[i * d + j] - mean[j];
                var[j] += c * c;
            }
        }
        double[] std = new double[d];
        for (int j = 0; j < d; j++) {
            std[j] = Math.sqrt(var[j] / n);
            if (!(std[j] > CONSTANT_COLUMN_TOLERANCE * Math.max(Math.abs(mean[j]), 1))) {
                throw new EbmException(source + ": column " + j + " (0-based) is constant on the training split "
                        + "(value " + mean[j] + ", std " + std[j] + "); drop it or turn standardisation off");
            }
        }
        return new Standardization(mean, std);
    }

    /** (x - mean) / std applied to every row; returns a new matrix. */
    public Npy.Matrix apply(Npy.Matrix m) {
        if (m.cols() != mean.length) {
            throw new IllegalArgumentException("matrix has " + m.cols() + " columns, standardisation " + mean.length);
        }
        int d = mean.length;
        double[] out = m.data().clone();
        for (int i = 0; i < m.rows(); i++) {
            for (int j = 0; j < d; j++) out[i * d + j] = (out[i * d + j] - mean[j]) / std[j];
        }
        return new Npy.Matrix(m.rows(), d, out);
    }
}
