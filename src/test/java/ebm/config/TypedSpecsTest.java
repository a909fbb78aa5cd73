package ebm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import ebm.EbmException;
import ebm.optim.AdamWOptions;
import ebm.optim.MuonOptions;
import ebm.optim.SgdOptions;
import ebm.optim.ShampooOptions;
import org.junit.jupiter.api.Test;

/** The backend and the optimizer as the config parses them: one enum, one sealed spec, the file unchanged. */
class TypedSpecsTest {
    private static RunConfig parse(String yaml) throws Exception {
        JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(yaml.isEmpty() ? "{}" : yaml);
        return ConfigLoader.fromTree(tree, "test");
    }

    @Test
    void theBackendIsParsedOnceAndWrittenUnderItsName() throws Exception {
        assertEquals(BackendKind.CPU, parse("").backend());
        assertEquals(BackendKind.CPU, parse("backend: null").backend());
        for (BackendKind b : BackendKind.values()) {
            RunConfig c = parse("backend: " + b.configName());
            assertEquals(b, c.backend());
            assertTrue(ConfigLoader.toYaml(c).contains("\nbackend: " + b.configName() + "\n"), ConfigLoader.toYaml(c));
            assertEquals(b.configName(), ConfigLoader.toTree(c).get("backend").asText());
            assertEquals(c, ConfigLoader.fromTree(ConfigLoader.toTree(c), "round trip"));
        }
        EbmException e = assertThrows(EbmException.class, () -> parse("backend: tpu"));
        assertEquals("test: backend: 'tpu' is not allowed; allowed: cpu, cuda, cuda-emulated", e.getMessage());
        assertEquals("--backend: 'CPU' is not allowed; allowed: cpu, cuda, cuda-emulated",
                assertThrows(EbmException.class, () -> BackendKind.parse("--backend", "CPU")).getMessage());
        assertEquals("cpu, cuda, cuda-emulated", BackendKind.allowed());
    }

    @Test
    void eachOptimizerNameParsesIntoItsOptionsWithTheConfigDefaults() throws Exception {
        assertEquals(new AdamWOptions(1e-3, 0.9, 0.999, 1e-8, 0), parse("").optimizer().spec());
        assertEquals(new SgdOptions(0.01, 0, 0, false, 0), parse("optimizer: {name: sgd}").optimizer().spec());
        assertEquals(new MuonOptions(0.02, 0.95, true, 5, 0, false, new AdamWOptions(1e-3, 0.9, 0.999, 1e-8, 0)),
                parse("optimizer: {name: muon}").optimizer().spec());
        assertEquals(new ShampooOptions(1e-3, 1e-12, 10, 10, 1024, 0, 0.9, 0.999, 1e-8),
                parse("optimizer: {name: shampoo}").optimizer().spec());
        // every key lands where it belongs: Muon's inner AdamW shares beta1, beta2, eps, weight_decay and takes adam_lr
        assertEquals(new MuonOptions(0.05, 0.8, false, 7, 0.1, true, new AdamWOptions(2e-3, 0.8, 0.99, 1e-6, 0.1)),
                parse("optimizer: {name: muon, lr: 0.05, momentum: 0.8, nesterov: false, ns_steps: 7, weight_decay: 0.1, "
                        + "muon_first_layer: true, adam_lr: 2e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6}").optimizer().spec());
        assertEquals(new ShampooOptions(0.01, 1e-10, 3, 2, 64, 0.1, 0.8, 0.99, 1e-6),
                parse("optimizer: {name: shampoo, lr: 0.01, precond_eps: 1e-10, root_every: 3, start_step: 2, "
                        + "max_precond_dim: 64, weight_decay: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6}").optimizer().spec());
        assertEquals(new SgdOptions(0.1, 0.9, 0, true, 0.01),
                parse("optimizer: {name: sgd, lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.01}").optimizer().spec());
    }
}
