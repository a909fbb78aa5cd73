package ebm.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class OptionsValidationTest {

    @Test
    void badValuesAreErrorsNamingTheKey() {
        AdamWOptions inner = AdamWOptions.defaults(1e-3);
        java.util.List<Map.Entry<String, Executable>> cases = new java.util.ArrayList<>();
        cases.add(Map.entry("optimizer.dampening", () -> new SgdOptions(0.1, 0.9, 0.1, true, 0)));
        cases.add(Map.entry("optimizer.momentum", () -> new SgdOptions(0.1, 0, 0, true, 0)));
        cases.add(Map.entry("optimizer.lr", () -> new SgdOptions(0, 0.9, 0, false, 0)));
        cases.add(Map.entry("optimizer.weight_decay", () -> new SgdOptions(0.1, 0, 0, false, -1)));
        cases.add(Map.entry("optimizer.beta1", () -> new AdamWOptions(1e-3, 1.0, 0.999, 1e-8, 0)));
        cases.add(Map.entry("optimizer.beta2", () -> new AdamWOptions(1e-3, 0.9, Double.NaN, 1e-8, 0)));
        cases.add(Map.entry("optimizer.eps", () -> new AdamWOptions(1e-3, 0.9, 0.999, 0, 0)));
        cases.add(Map.entry("optimizer.adamw.lr", () -> AdamWOptions.validated("optimizer.adamw.", -1, 0.9, 0.999, 1e-8, 0)));
        cases.add(Map.entry("optimizer.ns_steps", () -> new MuonOptions(0.02, 0.95, true, 0, 0, false, inner)));
        cases.add(Map.entry("optimizer.adamw", () -> new MuonOptions(0.02, 0.95, true, 5, 0, false, null)));
        cases.add(Map.entry("optimizer.root_every", () -> new ShampooOptions(0.01, 1e-12, 0, 10, 1024, 0, 0.9, 0.999, 1e-8)));
        cases.add(Map.entry("optimizer.max_precond_dim", () -> new ShampooOptions(0.01, 1e-12, 1, 10, 0, 0, 0.9, 0.999, 1e-8)));
        cases.add(Map.entry("optimizer.start_step", () -> new ShampooOptions(0.01, 1e-12, 1, -1, 1024, 0, 0.9, 0.999, 1e-8)));
        cases.add(Map.entry("optimizer.eps", () -> new ShampooOptions(0.01, 1e-12, 1, 1, 1024, 0, 0.9, 0.999, 0)));
        cases.add(Map.entry("optimizer.precond_eps", () -> new ShampooOptions(0.01, 0, 1, 1, 1024, 0, 0.9, 0.999, 1e-8)));
        for (Map.Entry<String, Executable> c : cases) {
            String key = c.getKey();
            Executable make = c.getValue();
            EbmException e = assertThrows(EbmException.class, make, key);
            System.out.println(key + " -> " + e.getMessage());
            assertTrue(e.getMessage().startsWith(key + " "), "message should name " + key + ": " + e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one-line message");
        }
    }

    @Test
    void defaultsAreValid() {
        assertEquals(5, MuonOptions.defaults(0.02, 3e-4).nsSteps());
        assertEquals(1024, ShampooOptions.defaults(1e-3).maxPrecondDim());
        assertEquals(0.999, AdamWOptions.defaults(1e-3).beta2());
        assertEquals(0, SgdOptions.plain(0.1).momentum());
    }
}
