package ebm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The moment-matched Gaussian as the bar a model must clear, and the summary's sentence when it does not. */
class GaussianComparisonTest {

    @Test
    void theGaussiansHeldOutLossOnItsOwnPointsIsMinusHalfTheTraceOfThePrecision() {
        // On its own training points the Gaussian's loss −tr P + ½ mean ‖P(x − m)‖² is −tr P + ½ tr(P S P) = −½ tr P.
        Random r = new Random(TestSeeds.seed("gaussian exact loss"));
        int n = 400, d = 3;
        double[] x = new double[n * d];
        for (int i = 0; i < n; i++) {
            double a = r.nextGaussian(), b = r.nextGaussian(), c = r.nextGaussian();
            x[i * d] = 2 * a + 1;
            x[i * d + 1] = 0.5 * a + 0.3 * b;
            x[i * d + 2] = -c + 0.1 * b;
        }
        double loss = Evaluation.momentMatchedGaussianExactLoss(x, n, x, n, d);
        org.ejml.data.DMatrixRMaj cov = new org.ejml.data.DMatrixRMaj(d, d);
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < d; a++) {
                for (int b = 0; b < d; b++) cov.add(a, b, (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]) / n);
            }
        }
        org.ejml.dense.row.CommonOps_DDRM.invert(cov);
        double expected = -0.5 * (cov.get(0, 0) + cov.get(1, 1) + cov.get(2, 2));
        System.out.printf("Gaussian's exact SM loss on its own points: %.12g, -tr(P)/2 = %.12g%n", loss, expected);
        assertEquals(expected, loss, 1e-10 * Math.abs(expected));
        double[] singular = {1, 2, 2, 4, 3, 6};
        assertNull(Evaluation.momentMatchedGaussianExactLoss(singular, 3, singular, 3, 2));
    }

    private static Trainer.Outcome outcome(Double valLoss, Double fisher, Double gaussianFisher, Double gaussianValLoss) {
        return new Trainer.Outcome(100, 0.0, valLoss, fisher, null, gaussianFisher, gaussianValLoss, 1.0, Path.of("run"), null, null, false);
    }

    @Test
    void theSummarySaysPlainlyWhenTheModelEndsWorse() {
        assertNull(Summary.worseThanGaussian(outcome(-3.0, 0.02, 1.8, -2.0)));
        String w = Summary.worseThanGaussian(outcome(0.0, 3.96, 1.85, -2.0));
        assertTrue(w.contains("worse than the moment-matched Gaussian: Fisher divergence 3.960 against the Gaussian's 1.850"), w);
        // The Fisher divergence decides where it is known, even when the SM losses say otherwise.
        assertNull(Summary.worseThanGaussian(outcome(0.0, 0.5, 1.85, -2.0)));
        // Unknown density (a file): the held-out exact SM loss decides.
        assertNull(Summary.worseThanGaussian(outcome(-2.5, null, null, -2.0)));
        String f = Summary.worseThanGaussian(outcome(0.0, null, null, -2.0));
        assertTrue(f.contains("held-out exact SM loss 0.000 against the Gaussian's -2.000"), f);
        assertNull(Summary.worseThanGaussian(outcome(null, null, null, -2.0)), "nothing evaluated, nothing claimed");
    }
}
