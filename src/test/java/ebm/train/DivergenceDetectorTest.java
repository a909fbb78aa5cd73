package ebm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The divergence rules: each fires on what it is for, none fires on healthy (even overfitting) training. */
class DivergenceDetectorTest {

    /** Feeds a trajectory; returns the step the detector fired at (0: never) and prints the verdict. */
    private static long firstFiring(DivergenceDetector d, double[] loss, double[] grad) {
        for (int i = 0; i < loss.length; i++) {
            DivergenceDetector.Verdict v = d.check(i + 1, loss[i], grad[i]);
            if (v != null) {
                System.out.printf("fired at step %d: %s (%s, since step %d)%n", i + 1, v.rule(), v.detail(), v.since());
                return i + 1;
            }
        }
        return 0;
    }

    @Test
    void overfittingIsNotDivergence() {
        // Exact SM on a small real data set: the gradient norm grows from 0.4 to 200 and the batch loss falls to -400,
        // noisily, with spikes; the first 50 steps move fast (the loss falls from about +1 below 0).
        Random r = new Random(TestSeeds.seed("overfitting trajectory"));
        int n = 5000;
        double[] loss = new double[n], grad = new double[n];
        for (int i = 0; i < n; i++) {
            double t = i / (double) (n - 1);
            double spike = r.nextDouble() < 0.01 ? 10 : 1;
            grad[i] = 0.4 * Math.pow(500, t) * Math.exp(0.3 * r.nextGaussian()) * spike;
            double mean = i < 50 ? 1.0 - i / 25.0 : -1 - 399 * Math.pow(t, 1.5);
            loss[i] = mean + 0.2 * (1 + Math.abs(mean)) * r.nextGaussian() * spike;
        }
        grad[n - 1] = 200;
        loss[n - 1] = -400;
        double maxGrad = 0, minLoss = 0;
        for (int i = 0; i < n; i++) {
            maxGrad = Math.max(maxGrad, grad[i]);
            minLoss = Math.min(minLoss, loss[i]);
        }
        System.out.printf("trajectory: gradient norm %.3g -> %.3g (max %.3g), loss %.3g -> %.3g (min %.3g)%n", grad[0],
                grad[n - 1], maxGrad, loss[0], loss[n - 1], minLoss);
        assertEquals(0, firstFiring(new DivergenceDetector(), loss, grad), "an overfitting run is not a diverged one");
    }

    @Test
    void aLossThatBlowsUpFiresAtOnce() {
        // The first steps of `./ebm train configs/quickstart.yaml --set optimizer.lr=1e6`: finite, but 1e30 and up.
        double[] loss = {0.0036153146050255, 4.991862648148592E30, 6.384787521279741E30};
        double[] grad = {0.29162987861683964, 1.7227478721575955E26, 1.6887958790521998E26};
        DivergenceDetector d = new DivergenceDetector();
        assertEquals(2, firstFiring(d, loss, grad));
        DivergenceDetector.Verdict v = new DivergenceDetector().check(1, loss[0], grad[0]);
        assertNull(v, "step 1 has nothing to compare with");
        DivergenceDetector e = new DivergenceDetector();
        e.check(1, loss[0], grad[0]);
        assertEquals("loss magnitude", e.check(2, loss[1], grad[1]).rule());
    }

    @Test
    void theThresholdsAreTenToTheSixRelativeToTheFirstFiftySteps() {
        DivergenceDetector d = new DivergenceDetector();
        for (int s = 1; s <= 50; s++) assertNull(d.check(s, s % 2 == 0 ? 3.0 : -3.0, 2.0));
        // median loss -3 (lower middle): the limit is 1e6 * (1 + 3) = 4e6
        assertNull(d.check(51, -3.9e6, 1.9e6));
        for (int s = 52; s < 200; s++) assertNull(d.check(s, 1e3 * Math.sin(s), 1.0 + s)); // later steps do not move it
        assertEquals("loss magnitude", d.check(200, 4.1e6, 1.0).rule());
        DivergenceDetector g = new DivergenceDetector();
        for (int s = 1; s <= 60; s++) assertNull(g.check(s, 1.0 / s, 2.0));
        DivergenceDetector.Verdict v = g.check(61, 0.5, 2.1e6);
        assertEquals("gradient norm", v.rule());
        assertEquals(61, v.since());
    }

    @Test
    void aDeadNetworkIsCaughtAfterFiftyStepsOfZeroGradient() {
        DivergenceDetector d = new DivergenceDetector();
        assertNull(d.check(1, 0.03, 0.3));
        for (int s = 2; s <= 50; s++) assertNull(d.check(s, 0.0, 0.0), "step " + s);
        DivergenceDetector.Verdict v = d.check(51, 0.0, 0.0);
        assertEquals("zero gradient", v.rule());
        assertEquals(2, v.since());
        // One step with a gradient starts the count again; denoising's loss keeps moving while the gradient is 0.
        DivergenceDetector e = new DivergenceDetector();
        for (int s = 1; s <= 40; s++) assertNull(e.check(s, 90 + s, s == 1 ? 1 : 0));
        assertNull(e.check(41, 50, 1e-3));
        for (int s = 42; s <= 90; s++) assertNull(e.check(s, 90 + s, 0));
        assertEquals("zero gradient", e.check(91, 1, 0).rule());
    }

    @Test
    void aLossThatStopsChangingIsCaught() {
        DivergenceDetector d = new DivergenceDetector();
        assertNull(d.check(1, 2.5, 1.0));
        for (int s = 2; s < 51; s++) assertNull(d.check(s, 1.25, 0.5));
        DivergenceDetector.Verdict v = d.check(51, 1.25, 0.5);
        assertEquals("constant loss", v.rule());
        assertEquals(2, v.since());
    }

    @Test
    void nonFiniteValuesFireAtOnce() {
        DivergenceDetector d = new DivergenceDetector();
        assertEquals("non-finite", d.check(1, Double.NaN, 1).rule());
        assertEquals("non-finite", new DivergenceDetector().check(1, 1, Double.POSITIVE_INFINITY).rule());
    }

    @Test
    void aRestoredDetectorDecidesExactlyAsTheOriginal() {
        // Saved at every step of a run that blows up late, the restored detector gives the same verdicts afterwards.
        Random r = new Random(TestSeeds.seed("detector state round trip"));
        int n = 160;
        double[] loss = new double[n], grad = new double[n];
        for (int i = 0; i < n; i++) {
            loss[i] = i < 100 ? 1 + r.nextGaussian() : 0.0;
            grad[i] = i < 100 ? 0.5 + r.nextDouble() : 0.0;
        }
        long expected = firstFiring(new DivergenceDetector(), loss, grad);
        assertEquals(150, expected);
        for (int cut : new int[] {1, 30, 50, 75, 120, 149}) {
            DivergenceDetector a = new DivergenceDetector();
            for (int i = 0; i < cut; i++) assertNull(a.check(i + 1, loss[i], grad[i]));
            Map<String, double[]> saved = a.state();
            RunState state = new RunState(cut, 0, new double[] {1}, Map.of(), saved);
            DivergenceDetector b = DivergenceDetector.restore(state.divergence());
            for (int i = cut; i < n; i++) {
                DivergenceDetector.Verdict va = a.check(i + 1, loss[i], grad[i]), vb = b.check(i + 1, loss[i], grad[i]);
                assertEquals(va, vb, "cut at " + cut + ", step " + (i + 1));
                if (va != null) {
                    assertEquals(expected, i + 1);
                    break;
                }
            }
        }
        assertNotNull(DivergenceDetector.restore(Map.of()), "a state saved before detectors existed resumes with a fresh one");
    }

    @Test
    void theStateSurvivesTheRunStateFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        DivergenceDetector a = new DivergenceDetector();
        for (int s = 1; s <= 70; s++) a.check(s, s < 40 ? 1.0 / s : 0.0, s < 40 ? s : 0);
        new RunState(70, 1.5, new double[] {1, 2}, Map.of("m", new double[] {3}), a.state()).save(dir);
        DivergenceDetector b = DivergenceDetector.restore(RunState.load(dir).divergence());
        for (String k : a.state().keySet()) {
            assertTrue(java.util.Arrays.equals(a.state().get(k), b.state().get(k)), k);
        }
        for (int s = 71; s <= 100; s++) assertEquals(a.check(s, 0.0, 0), b.check(s, 0.0, 0), "step " + s);
    }
}
