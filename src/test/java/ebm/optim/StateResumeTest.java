package ebm.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.model.MlpSpec;
import ebm.model.ParamLayout;
import ebm.tape.Activation;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Ten steps in one go equal five, state() → fresh optimizer → loadState() → five more, bit for bit. */
class StateResumeTest {
    /** An MLP 3 -> 5 -> 4 -> 1, so that every optimizer sees first, hidden and output weights and biases. */
    private static final ParamLayout LAYOUT = new MlpSpec(3, new int[] {5, 4}, Activation.SOFTPLUS).layout();
    private static final int STEPS = 10;

    private record Case(String name, Supplier<Optimizer> create) {}

    @Test
    void resumingFromStateIsBitwiseIdentical() {
        List<Case> cases = List.of(
                new Case("sgd nesterov+wd", () -> Optimizers.sgd(new SgdOptions(0.05, 0.9, 0, true, 1e-3), LAYOUT)),
                new Case("sgd dampening", () -> Optimizers.sgd(new SgdOptions(0.05, 0.8, 0.3, false, 0), LAYOUT)),
                new Case("adamw", () -> Optimizers.adamw(new AdamWOptions(1e-2, 0.9, 0.99, 1e-8, 0.01), LAYOUT)),
                new Case("muon", () -> Optimizers.muon(new MuonOptions(0.02, 0.95, true, 5, 0.01, false,
                        new AdamWOptions(3e-3, 0.9, 0.999, 1e-8, 0.01)), LAYOUT)),
                new Case("muon first layer", () -> Optimizers.muon(new MuonOptions(0.02, 0.9, false, 3, 0, true,
                        AdamWOptions.defaults(1e-3)), LAYOUT)),
                // Roots at steps 4 and 7 (start 4, every 3): the save at step 5 falls between refreshes.
                new Case("shampoo", () -> Optimizers.shampoo(new ShampooOptions(0.01, 1e-6, 3, 4, 1024, 0.01,
                        0.9, 0.999, 1e-8), LAYOUT)),
                new Case("shampoo max_precond_dim 4", () -> Optimizers.shampoo(new ShampooOptions(0.01, 1e-6, 1, 0,
                        4, 0, 0.5, 0.9, 1e-8), LAYOUT)));
        for (Case c : cases) {
            Random random = new Random(TestSeeds.fixed(c.name() + ": start and gradients", 99));
            double[] start = MuonTest.gaussian(LAYOUT.size(), random);
            double[][] grads = new double[STEPS][];
            double[] lrScales = new double[STEPS];
            for (int s = 0; s < STEPS; s++) {
                grads[s] = MuonTest.gaussian(LAYOUT.size(), random);
                lrScales[s] = 0.5 + random.nextDouble();
            }

            Optimizer straight = c.create.get();
            double[] straightParams = start.clone();
            for (int s = 0; s < STEPS; s++) straight.step(straightParams, grads[s], lrScales[s]);

            Optimizer first = c.create.get();
            double[] resumedParams = start.clone();
            for (int s = 0; s < STEPS / 2; s++) first.step(resumedParams, grads[s], lrScales[s]);
            Map<String, double[]> saved = first.state();
            // The saved state is a copy: further use of the old optimizer must not change it.
            Map<String, double[]> savedCopy = deepCopy(saved);
            first.step(resumedParams.clone(), grads[STEPS / 2], 1.0);
            assertStatesEqual(savedCopy, saved, c.name + " state() must return copies");

            Optimizer resumed = c.create.get();
            resumed.loadState(saved);
            assertEquals(STEPS / 2, resumed.steps());
            for (int s = STEPS / 2; s < STEPS; s++) resumed.step(resumedParams, grads[s], lrScales[s]);

            int differing = 0;
            for (int i = 0; i < straightParams.length; i++) {
                if (Double.doubleToRawLongBits(straightParams[i]) != Double.doubleToRawLongBits(resumedParams[i])) {
                    differing++;
                }
            }
            double moved = 0;
            for (int i = 0; i < start.length; i++) moved = Math.max(moved, Math.abs(straightParams[i] - start[i]));
            System.out.printf("resume %-26s %d params after %d steps: %d differ bitwise (state: %d entries, "
                    + "params moved up to %.3f); diagnostics %s%n", c.name, straightParams.length, STEPS, differing,
                    saved.size(), moved, resumed.diagnostics());
            assertEquals(0, differing, c.name + ": resumed run differs from the straight run");
            assertTrue(moved > 1e-4, c.name + ": parameters did not move, the comparison would be empty");
            assertStatesEqual(straight.state(), resumed.state(), c.name + " final states");
            assertEquals(STEPS, resumed.steps());
        }
    }

    @Test
    void loadStateRejectsMissingOrMissizedEntries() {
        Optimizer adamw = Optimizers.adamw(AdamWOptions.defaults(1e-3), LAYOUT);
        Map<String, double[]> state = new HashMap<>(adamw.state());
        state.remove("exp_avg_sq");
        var missing = org.junit.jupiter.api.Assertions.assertThrows(ebm.EbmException.class, () -> adamw.loadState(state));
        state.put("exp_avg_sq", new double[3]);
        var missized = org.junit.jupiter.api.Assertions.assertThrows(ebm.EbmException.class, () -> adamw.loadState(state));
        System.out.println("loadState errors: " + missing.getMessage() + " | " + missized.getMessage());
        assertTrue(missing.getMessage().contains("exp_avg_sq"));
        assertTrue(missized.getMessage().contains("exp_avg_sq"));
        assertEquals(0, adamw.steps());
    }

    private static Map<String, double[]> deepCopy(Map<String, double[]> state) {
        Map<String, double[]> copy = new HashMap<>();
        state.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    private static void assertStatesEqual(Map<String, double[]> want, Map<String, double[]> got, String what) {
        assertEquals(want.keySet(), got.keySet(), what);
        for (String key : want.keySet()) {
            double[] a = want.get(key);
            double[] b = got.get(key);
            assertEquals(a.length, b.length, what + " " + key);
            for (int i = 0; i < a.length; i++) {
                assertFalse(Double.doubleToRawLongBits(a[i]) != Double.doubleToRawLongBits(b[i]),
                        what + " " + key + "[" + i + "]: " + a[i] + " vs " + b[i]);
            }
        }
    }
}
