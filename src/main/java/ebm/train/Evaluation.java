package ebm.train;

import ebm.data.Density;
import ebm.data.PointChunk;
import ebm.model.EnergyModel;
import ebm.model.TraceAlgorithm;
import ebm.objective.ExactObjective;
import ebm.tape.Tape;
import java.util.function.BiConsumer;

/** Held-out measures of an energy in the data's coordinates: exact SM loss and Fisher divergences. */
public final class Evaluation {
    private static final int CHUNK = 1024;

    private Evaluation() {}

    /** The exact Hyvärinen loss mean[−ΔE + ½‖∇E‖²] over the points (cheaper trace algorithm), in chunks. */
    public static double exactLoss(EnergyModel model, double[] params, double[] points, int n) {
        ExactObjective exact = new ExactObjective(TraceAlgorithm.AUTO);
        int d = model.dim();
        double total = 0;
        for (PointChunk c : PointChunk.split(points, n, d, CHUNK)) {
            total += c.rows() * exact.evaluate(model, params, c.points(), c.rows(), 0, null);
        }
        return total / n;
    }

    /** The model's score s_θ = −∇ₓE at every point ([n x D]). */
    public static double[] modelScores(EnergyModel model, double[] params, double[] points, int n) {
        int d = model.dim();
        double[] scores = new double[n * d];
        for (PointChunk c : PointChunk.split(points, n, d, CHUNK)) {
            Tape t = new Tape();
            double[] g = model.bind(t, params).gradX(t.constant(c.points(), c.rows(), d)).value;
            for (int i = 0; i < g.length; i++) scores[c.start() * d + i] = -g[i];
        }
        return scores;
    }

    /** ½ mean ‖a(x) − b(x)‖² for precomputed scores a and a reference score function b. */
    public static double fisherDivergence(double[] scores, double[] points, int n, int d,
                                          BiConsumer<Integer, double[]> reference) {
        double total = 0;
        double[] ref = new double[d];
        for (int i = 0; i < n; i++) {
            reference.accept(i, ref);
            for (int j = 0; j < d; j++) {
                double diff = scores[i * d + j] - ref[j];
                total += diff * diff;
            }
        }
        return 0.5 * total / n;
    }

    /** Fisher divergence of the model against the true density's score (null if the density has none). */
    public static Double fisherToTruth(double[] scores, double[] points, int n, Density density) {
        if (density == null || !density.knownScore()) return null;
        int d = density.dim();
        return fisherDivergence(scores, points, n, d, (i, out) -> density.score(points, i * d, out, 0));
    }

    /** Fisher divergence against the score of the noised density p_σ (what denoising objectives target). */
    public static Double fisherToNoised(double[] scores, double[] points, int n, Density density, double sigma) {
        if (density == null || !density.knownNoisedScore()) return null;
        int d = density.dim();
        return fisherDivergence(scores, points, n, d, (i, out) -> density.scoreNoised(points, i * d, sigma, out, 0));
    }

    /**
     * Fisher divergence to the truth of the moment-matched single Gaussian N(m, S) of the training points (S with
     * 1/N normalisation), for scale: a model should beat it by a wide margin. Null when the truth is unknown.
     */
    public static Double momentMatchedGaussianFisher(double[] train, int nTrain, double[] points, int n, Density density) {
        if (density == null || !density.knownScore()) return null;
        double[] scores = momentMatchedGaussianScores(train, nTrain, points, n, density.dim());
        return scores == null ? null : fisherToTruth(scores, points, n, density);
    }

    /**
     * The held-out exact SM loss of the same Gaussian, −tr S⁻¹ + ½ mean ‖S⁻¹(x − m)‖² over the points: what a model's
     * val_loss must beat where the density is unknown (both equal the Fisher divergence to the data up to the same
     * constant). Null when S is singular.
     */
    public static Double momentMatchedGaussianExactLoss(double[] train, int nTrain, double[] points, int n, int d) {
        org.ejml.data.DMatrixRMaj precision = momentMatchedPrecision(train, nTrain, d);
        double[] scores = momentMatchedGaussianScores(train, nTrain, points, n, d);
        if (precision == null || scores == null) return null;
        double trace = 0, squares = 0;
        for (int a = 0; a < d; a++) trace += precision.get(a, a);
        for (double s : scores) squares += s * s;
        return -trace + 0.5 * squares / n;
    }

    private static double[] momentMatchedMean(double[] train, int nTrain, int d) {
        double[] mean = new double[d];
        for (int i = 0; i < nTrain; i++) for (int j = 0; j < d; j++) mean[j] += train[i * d + j] / nTrain;
        return mean;
    }

    /** S⁻¹ of the training points (1/N normalisation), or null when S is singular. */
    private static org.ejml.data.DMatrixRMaj momentMatchedPrecision(double[] train, int nTrain, int d) {
        double[] mean = momentMatchedMean(train, nTrain, d);
        org.ejml.data.DMatrixRMaj cov = new org.ejml.data.DMatrixRMaj(d, d);
        for (int i = 0; i < nTrain; i++) {
            for (int a = 0; a < d; a++) {
                double da = train[i * d + a] - mean[a];
                for (int b = 0; b < d; b++) cov.add(a, b, da * (train[i * d + b] - mean[b]) / nTrain);
            }
        }
        if (!org.ejml.dense.row.CommonOps_DDRM.invert(cov)) return null;
        for (double v : cov.data) if (!Double.isFinite(v)) return null; // (EJML may "invert" an exactly singular S)
        return cov;
    }

    /** The Gaussian's score −S⁻¹(x − m) at every point ([n x D]), or null when S is singular. */
    private static double[] momentMatchedGaussianScores(double[] train, int nTrain, double[] points, int n, int d) {
        double[] mean = momentMatchedMean(train, nTrain, d);
        org.ejml.data.DMatrixRMaj precision = momentMatchedPrecision(train, nTrain, d);
        if (precision == null) return null;
        double[] scores = new double[n * d];
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < d; a++) {
                double s = 0;
                for (int b = 0; b < d; b++) s -= precision.get(a, b) * (points[i * d + b] - mean[b]);
                scores[i * d + a] = s;
            }
        }
        return scores;
    }
}
