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
        for (int b = 0; b < batch; b++) {
            double dot = 0;
            for (int j = 0; j < d; j++) dot += draws[(b * perSample) * d + j] * draws[(b * perSample + 1) * d + j];
            if (Math.abs(dot) == d) dependent++;
        }
        HutchPlusPlusObjective.Directions dirs = objective.directions(mlp, params, x, batch, step);
        double worst = 0;
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < sketch; k++) {
                for (int l = 0; l < sketch; l++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) {
                        dot += dirs.values()[(b * perSample + k) * d + j] * dirs.values()[(b * perSample + l) * d + j];
                    }
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
}
