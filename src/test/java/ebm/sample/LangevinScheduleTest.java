package ebm.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ebm.model.Quadratic;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The step sizes both samplers share (ARCHITECTURE.md §3), and the CPU sampler's step numbering. */
class LangevinScheduleTest {

    @Test
    void annealedLevelsSplitTheStepsAndScaleTheStepBySigmaSquared() {
        double[] sigmas = {1.0, 0.5, 0.25};
        LangevinSchedule s = new LangevinSchedule(20, 0.01, sigmas);
        assertEquals(List.of(7, 7, 6), List.of(s.levelSteps(0), s.levelSteps(1), s.levelSteps(2)));
        for (int i = 0; i < 3; i++) {
            double eps = 0.01 * sigmas[i] * sigmas[i] / (0.25 * 0.25);
            System.out.printf("level %d: σ %.2f, steps %d, ε_i %.4f, drift %.6f, noise %.6f%n", i, sigmas[i], s.levelSteps(i),
                    s.epsilon(i), s.drift(i), s.noise(i));
            assertEquals(eps, s.epsilon(i), 1e-15 * eps);
            assertEquals(-0.5 * eps / sigmas[i], s.drift(i), 1e-15 * eps / sigmas[i]);
            assertEquals(Math.sqrt(eps), s.noise(i), 1e-15);
        }
        LangevinSchedule plain = new LangevinSchedule(5, 0.02, null);
        assertEquals(1, plain.levels());
        assertEquals(5, plain.levelSteps(0));
        assertEquals(-0.01, plain.drift(0), 0.0);
        assertEquals(Math.sqrt(0.02), plain.noise(0), 0.0);
        assertEquals(List.of(1, 1, 0), List.of(new LangevinSchedule(2, 0.1, sigmas).levelSteps(0),
                new LangevinSchedule(2, 0.1, sigmas).levelSteps(1), new LangevinSchedule(2, 0.1, sigmas).levelSteps(2)));
        assertThrows(IllegalArgumentException.class, () -> new LangevinSchedule(5, 0, null));
        assertThrows(IllegalArgumentException.class, () -> new LangevinSchedule(5, 0.1, new double[0]));
    }

    @Test
    void stepsAreNumberedAcrossLevelsFromOne() {
        Quadratic model = new Quadratic(2, 1e-3);
        double[] params = model.initialParams(1);
        List<Long> seen = new ArrayList<>();
        Langevin.run(model, params, new double[6], 3, new LangevinSchedule(7, 0.01, new double[] {0.5, 0.1}), 9,
                (t, x) -> seen.add(t));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), seen);
    }
}
