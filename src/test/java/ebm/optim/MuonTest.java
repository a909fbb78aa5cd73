package ebm.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.model.MlpSpec;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import ebm.tape.Activation;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.RandomMatrices_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.junit.jupiter.api.Test;

class MuonTest {

    /**
     * Inputs U diag(s) Vᵀ whose singular values, after the Frobenius normalisation, are all ≥ 2e-3 come out of
     * five quintic steps in about [0.68, 1.20]; since NS acts on each singular value through the same scalar
     * polynomial, the output singular values also equal that polynomial applied five times to s/‖s‖.
     */
    @Test
    void fiveStepsMapNormalisedSingularValuesIntoTheBand() {
        Random random = new Random(TestSeeds.fixed("Newton-Schulz spectra and bases", 20240611));
        int[][] shapes = {{4, 4}, {3, 7}, {7, 3}, {16, 9}, {5, 12}, {12, 1}};
        double overallMin = Double.POSITIVE_INFINITY;
        double overallMax = 0;
        for (int[] shape : shapes) {
            int rows = shape[0];
            int cols = shape[1];
            int n = Math.min(rows, cols);
            double[] singular = normalisedSpectrum(n, random);
            double[] g = compose(rows, cols, singular, 37.5, random);

            double[] out = Muon.newtonSchulz(g, rows, cols, MuonOptions.DEFAULT_NS_STEPS);
            double[] got = SingularOps_DDRM.singularValues(new DMatrixRMaj(rows, cols, true, out));
            Arrays.sort(got);
            double[] predicted = new double[n];
            for (int i = 0; i < n; i++) predicted[i] = scalarNewtonSchulz(singular[i] / (1 + 1e-7 / 37.5), 5);
            Arrays.sort(predicted);
            double worst = 0;
            for (int i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - predicted[i]));
            double min = got[0];
            double max = got[n - 1];
            System.out.printf("NS %2dx%-2d input s/|s| in [%.1e, %.3f] -> singular values [%.4f, %.4f]; "
                    + "worst |sv - scalar polynomial| %.2e%n", rows, cols, Arrays.stream(singular).min().orElseThrow(),
                    Arrays.stream(singular).max().orElseThrow(), min, max, worst);
            assertTrue(min >= 0.68 && max <= 1.205, "singular values out of [0.68, 1.205]: " + min + " .. " + max);
            assertTrue(worst < 1e-10, "NS does not act as the scalar polynomial on singular values: " + worst);
            overallMin = Math.min(overallMin, min);
            overallMax = Math.max(overallMax, max);
        }
        System.out.printf("NS over all shapes: singular values in [%.4f, %.4f]%n", overallMin, overallMax);
    }

    @Test
    void zeroUpdateStaysZero() {
        double[] out = Muon.newtonSchulz(new double[6], 2, 3, 5);
        for (double value : out) assertEquals(0.0, value);
    }

    /** Hidden matrices (and the first layer only when asked) get the Muon step; the rest exactly AdamW's. */
    @Test
    void routesMatricesToMuonAndTheRestToInnerAdamW() {
        // An MLP 2 -> 4 -> 3 -> 1: first, hidden and output weights with a bias each.
        ParamLayout layout = new MlpSpec(2, new int[] {4, 3}, Activation.SOFTPLUS).layout();
        Random random = new Random(TestSeeds.fixed("Muon routing: parameters and gradient", 7));
        double[] start = gaussian(layout.size(), random);
        double[] grad = gaussian(layout.size(), random);
        AdamWOptions inner = new AdamWOptions(3e-3, 0.9, 0.99, 1e-8, 0.05);
        double lrScale = 0.5;
        for (boolean muonFirstLayer : new boolean[] {false, true}) {
            MuonOptions options = new MuonOptions(0.02, 0.9, true, 5, 0.1, muonFirstLayer, inner);
            Muon muon = Optimizers.muon(options, layout);
            double[] params = start.clone();
            muon.step(params, grad, lrScale);

            double[] adamParams = start.clone();
            Optimizers.adamw(inner, layout).step(adamParams, grad, lrScale);
            double lr = options.lr() * lrScale;
            double worstMuon = 0;
            double worstError = 0;
            int muonMatrices = 0;
            for (ParamView view : layout.views()) {
                boolean toMuon = view.role() == ParamView.Role.HIDDEN_WEIGHT
                        || (muonFirstLayer && view.role() == ParamView.Role.FIRST_WEIGHT);
                if (!toMuon) {
                    for (int k = 0; k < view.size(); k++) {
                        assertEquals(adamParams[view.offset() + k], params[view.offset() + k], 0.0, view.name());
                    }
                    continue;
                }
                muonMatrices++;
                double[] update = new double[view.size()];
                for (int k = 0; k < update.length; k++) {
                    double g = grad[view.offset() + k];
                    double momentum = (1 - 0.9) * g; // first step from a zero buffer
                    update[k] = (1 - 0.9) * g + 0.9 * momentum;
                }
                double[] orthogonal = Muon.newtonSchulz(update, view.rows(), view.cols(), 5);
                double scale = Math.sqrt(Math.max(1.0, (double) view.rows() / view.cols()));
                for (int k = 0; k < update.length; k++) {
                    double want = start[view.offset() + k] * (1 - lr * 0.1) - lr * scale * orthogonal[k];
                    worstMuon = Math.max(worstMuon, Math.abs(params[view.offset() + k] - want));
                }
                worstError = Math.max(worstError, orthogonalityError(orthogonal, view.rows(), view.cols()));
            }
            assertEquals(muonFirstLayer ? 2 : 1, muonMatrices);
            Map<String, Double> diagnostics = muon.diagnostics();
            System.out.printf("Muon routing (muon_first_layer=%s): %d Muon matrices, worst |param - expected| %.2e, "
                    + "orthogonality error %.3e (diagnostic %.3e), non-Muon entries equal AdamW's bitwise%n",
                    muonFirstLayer, muonMatrices, worstMuon, worstError, diagnostics.get("muon_orthogonality_error"));
            assertTrue(worstMuon < 1e-15, "Muon step differs: " + worstMuon);
            assertEquals(worstError, diagnostics.get("muon_orthogonality_error"), 1e-15);
            assertTrue(diagnostics.containsKey("adam_v_spread"));
        }
    }

    /** Plain (non-Nesterov) momentum steps along the EMA b itself, b ← μb + (1 − μ)g. */
    @Test
    void plainMomentumUsesTheBuffer() {
        ParamLayout layout = new ParamLayout.Builder().add("w", 2, 3, ParamView.Role.HIDDEN_WEIGHT).build();
        Random random = new Random(TestSeeds.fixed("Muon plain momentum: gradients", 3));
        double[] g1 = gaussian(6, random);
        double[] g2 = gaussian(6, random);
        MuonOptions options = new MuonOptions(0.1, 0.8, false, 5, 0, false, AdamWOptions.defaults(1e-3));
        Muon muon = Optimizers.muon(options, layout);
        double[] params = new double[6];
        muon.step(params, g1, 1.0);
        double[] afterFirst = params.clone();
        muon.step(params, g2, 1.0);
        double[] buffer = new double[6];
        for (int k = 0; k < 6; k++) buffer[k] = 0.8 * (0.2 * g1[k]) + 0.2 * g2[k];
        double[] orthogonal = Muon.newtonSchulz(buffer, 2, 3, 5);
        double worst = 0;
        for (int k = 0; k < 6; k++) worst = Math.max(worst, Math.abs(params[k] - (afterFirst[k] - 0.1 * orthogonal[k])));
        System.out.printf("Muon plain momentum, step 2: worst |param - expected| %.2e%n", worst);
        assertTrue(worst < 1e-15);
    }

    static double scalarNewtonSchulz(double x, int steps) {
        for (int s = 0; s < steps; s++) x = Muon.NS_A * x + Muon.NS_B * x * x * x + Muon.NS_C * x * x * x * x * x;
        return x;
    }

    /** n values in [2e-3, 1] with unit Euclidean norm and the smallest exactly 2e-3 (the band's edge). */
    private static double[] normalisedSpectrum(int n, Random random) {
        double[] s = new double[n];
        if (n == 1) return new double[] {1.0};
        s[0] = 2e-3;
        double rest = 0;
        for (int i = 1; i < n; i++) {
            s[i] = Math.exp(Math.log(0.05) * random.nextDouble());
            rest += s[i] * s[i];
        }
        double scale = Math.sqrt((1 - s[0] * s[0]) / rest);
        for (int i = 1; i < n; i++) s[i] *= scale;
        return s;
    }

    /** scale · U diag(s) Vᵀ with random orthonormal U [rows x n] and V [cols x n], row-major. */
    private static double[] compose(int rows, int cols, double[] s, double scale, Random random) {
        int n = s.length;
        DMatrixRMaj u = RandomMatrices_DDRM.orthogonal(rows, n, random);
        DMatrixRMaj v = RandomMatrices_DDRM.orthogonal(cols, n, random);
        DMatrixRMaj us = new DMatrixRMaj(rows, n);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < n; c++) us.set(r, c, u.get(r, c) * s[c] * scale);
        }
        DMatrixRMaj g = new DMatrixRMaj(rows, cols);
        CommonOps_DDRM.multTransB(us, v, g);
        return g.getData().clone();
    }

    private static double orthogonalityError(double[] o, int rows, int cols) {
        DMatrixRMaj m = new DMatrixRMaj(rows, cols, true, o);
        if (rows > cols) m = CommonOps_DDRM.transpose(m, null);
        int n = m.numRows;
        DMatrixRMaj gram = new DMatrixRMaj(n, n);
        CommonOps_DDRM.multTransB(m, m, gram);
        double sum = 0;
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                double d = gram.get(r, c) - (r == c ? 1 : 0);
                sum += d * d;
            }
        }
        return Math.sqrt(sum / n);
    }

    static double[] gaussian(int n, Random random) {
        double[] values = new double[n];
        for (int i = 0; i < n; i++) values[i] = random.nextGaussian();
        return values;
    }
}
