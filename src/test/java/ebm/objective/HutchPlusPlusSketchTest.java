package ebm.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.rng.Streams;
import ebm.tape.Activation;
import org.junit.jupiter.api.Test;

/**
 * Hutch++ with Rademacher probes in low D: two sketch vectors of a sample are often equal or opposite, so Y = ∇²E·S
 * has an exactly dependent column. The sketch basis must still be orthonormal (the estimate stays unbiased) rather
 * than the step failing.
 */
class HutchPlusPlusSketchTest {

    @Test
    void exactlyDependentRademacherSketchesStillGiveOrthonormalBases() {
        int d = 3, batch = 64, probes = 6; // 2 sketch vectors per sample: equal or opposite for 1 sample in 4
        Mlp mlp = new Mlp(new MlpSpec(d, new int[] {8, 6}, Activation.TANH));
        double[] params = mlp.initialParams(TestSeeds.fixed("hutch++ sketch: parameters", 7));
        double[] x = ProbeDistribution.GAUSSIAN.draw(TestSeeds.fixed("hutch++ sketch: points", 3), 0, Streams.DATA, batch * d);
        HutchPlusPlusObjective objective = new HutchPlusPlusObjective(probes, ProbeDistribution.RADEMACHER, TestSeeds.fixed("hutch++ sketch: probes", 21));
        int sketch = objective.sketchVectors(d), perSample = sketch + objective.restProbes();
        long step = 5;
        double[] draws = ProbeDistribution.RADEMACHER.draw(21, step, Streams.PROBES, batch * perSample * d);
        int dependent = 0;
        for (int b = 0; b < batch; b++) if (Math.abs(rowDot(draws, d, b * perSample, b * perSample + 1)) == d) dependent++;
        HutchPlusPlusObjective.Directions dirs = objective.directions(mlp, params, x, batch, step);
        double worst = 0;
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < sketch; k++) {
                for (int l = 0; l < sketch; l++) {
                    double dot = rowDot(dirs.values(), d, b * perSample + k, b * perSample + l);
                    worst = Math.max(worst, Math.abs(dot - (k == l ? 1 : 0)));
                }
            }
        }
        double loss = objective.evaluate(mlp, params, x, batch, step, new double[params.length]);
        System.out.printf("hutch++-6 rademacher, D=3: %d of %d samples with dependent sketch vectors; worst |QᵀQ − I| "
                + "%.2e; loss %.6g%n", dependent, batch, worst, loss);
        assertTrue(dependent > 0, "the draw must contain a dependent sketch for this test to mean anything");
        assertTrue(worst < 1e-12, "Q not orthonormal: " + worst);
        assertTrue(Double.isFinite(loss));
        assertEquals(perSample * batch * d, dirs.values().length);
    }

    /** Rows r1 and r2 of a row-major matrix of width d, dotted. */
    private static double rowDot(double[] m, int d, int r1, int r2) {
        double dot = 0;
        for (int j = 0; j < d; j++) dot += m[r1 * d + j] * m[r2 * d + j];
        return dot;
    }
}
