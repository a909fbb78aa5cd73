package ebm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.sweep.SweepSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the loader no longer accepts silently (a repeated key, a fractional integer, warmup past the horizon, a batch
 * bigger than the data), the warnings for keys the chosen optimizer or objective ignores, and the precision a cpu
 * run records.
 */
class ConfigStrictnessTest {
    @TempDir
    Path tmp;

    private Path write(String name, String yaml) {
        Path p = tmp.resolve(name);
        try {
            Files.writeString(p, yaml);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return p;
    }

    private static String error(Runnable r) {
        String m = assertThrows(EbmException.class, r::run).getMessage();
        System.out.println("error: " + m);
        assertEquals(1, m.lines().count(), m);
        return m;
    }

    @Test
    void aRepeatedSectionOrKeyIsAnErrorNamingItAndItsLine() throws IOException {
        Path section = write("section.yaml", "train:\n  steps: 10\noptimizer: {name: sgd}\ntrain:\n  steps: 20\n");
        String m = error(() -> ConfigLoader.load(section, List.of()));
        assertTrue(m.contains("duplicate key 'train'") && m.contains("line 4"), m);

        Path key = write("key.yaml", "train:\n  steps: 10\n  batch_size: 8\n  steps: 20\n");
        m = error(() -> ConfigLoader.load(key, List.of()));
        assertTrue(m.contains("duplicate key 'train.steps'") && m.contains("line 4"), m);

        Path flow = write("flow.yaml", "optimizer: {name: sgd, lr: 0.1, lr: 0.2}\n");
        m = error(() -> ConfigLoader.load(flow, List.of()));
        assertTrue(m.contains("duplicate key 'optimizer.lr'") && m.contains("line 1"), m);
    }

    @Test
    void integerKeysRejectFractionsButTakeWholeFloats() throws IOException {
        Path frac = write("frac.yaml", "train: {steps: 20.5}\n");
        String m = error(() -> ConfigLoader.load(frac, List.of()));
        assertTrue(m.contains("'train.steps'") && m.contains("20.5") && m.contains("an integer"), m);
        m = error(() -> ConfigLoader.load(write("ns.yaml", "optimizer: {ns_steps: 4.5}\n"), List.of()));
        assertTrue(m.contains("'optimizer.ns_steps'"), m);
        m = error(() -> ConfigLoader.load(write("seed.yaml", "data: {seed: 0.5}\n"), List.of()));
        assertTrue(m.contains("'data.seed'"), m);
        m = error(() -> ConfigLoader.load(write("big.yaml", "train: {steps: 3.0e10}\n"), List.of()));
        assertTrue(m.contains("'train.steps'"), m);

        RunConfig whole = ConfigLoader.load(write("whole.yaml", "train: {steps: 20.0, batch_size: 8}\n"), List.of());
        assertEquals(20, whole.train().steps());
        assertEquals(8, whole.train().batchSize());
    }

    @Test
    void warmupPastTheHorizonAndABatchBiggerThanTheDataAreErrors() throws IOException {
        String m = error(() -> ConfigLoader.load(write("w.yaml", "train: {steps: 10, warmup: 11, batch_size: 8}\n"), List.of()));
        assertTrue(m.contains("train.warmup") && m.contains("train.steps (10)") && m.contains("11"), m);
        ConfigLoader.load(write("w10.yaml", "train: {steps: 10, warmup: 10, batch_size: 8}\n"), List.of()); // equal is fine

        m = error(() -> ConfigLoader.load(write("b.yaml", "data: {n_train: 100}\n"), List.of()));
        assertTrue(m.contains("train.batch_size") && m.contains("data.n_train (100)") && m.contains("256"), m);
        ConfigLoader.load(write("b100.yaml", "data: {n_train: 100}\ntrain: {batch_size: 100}\n"), List.of());
    }

    @Test
    void aNonDefaultKeyTheOptimizerOrObjectiveDoesNotUseIsAWarning() throws IOException {
        RunConfig c = ConfigLoader.load(write("m.yaml", "optimizer: {name: adamw, momentum: 0.9, ns_steps: 7}\n"
                + "objective: {name: exact, sigma: 0.5, probes: 1}\n"), List.of());
        List<String> w = ConfigLoader.unusedKeyWarnings(c);
        System.out.println(w);
        assertEquals(3, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("optimizer.momentum = 0.9") && w.get(0).contains("adamw"), w.toString());
        assertTrue(w.get(1).startsWith("optimizer.ns_steps = 7"), w.toString());
        assertTrue(w.get(2).startsWith("objective.sigma = 0.5") && w.get(2).contains("exact"), w.toString());
        w.forEach(line -> assertEquals(1, line.lines().count()));

        // used keys and keys set to their defaults say nothing
        RunConfig used = ConfigLoader.load(write("u.yaml", "optimizer: {name: sgd, momentum: 0.9, nesterov: true, beta1: 0.9}\n"
                + "objective: {name: denoising, sigma: 0.5, trace: auto}\n"), List.of());
        assertEquals(List.of(), ConfigLoader.unusedKeyWarnings(used));
        RunConfig muon = ConfigLoader.load(write("mu.yaml", "optimizer: {name: adamw, momentum: 0.0, nesterov: false}\n"), List.of());
        assertEquals(List.of(), ConfigLoader.unusedKeyWarnings(muon));
    }

    private static List<Path> yamlFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    /** A config as a run writes it (every key resolved) reads back to itself, with no warning. */
    private void assertResolvedRoundTrips(RunConfig c, String what) throws IOException {
        Path resolved = write("resolved.yaml", ConfigLoader.toYaml(c));
        RunConfig back = ConfigLoader.load(resolved, List.of());
        assertEquals(c, back, what);
        assertEquals(List.of(), ConfigLoader.unusedKeyWarnings(back), what + " (resolved)");
    }

    @Test
    void shippedConfigsSweepsAndTheirResolvedFormsWarnOfNothing() throws IOException {
        int n = 0;
        for (Path p : yamlFiles(Path.of("configs"))) {
            RunConfig c = ConfigLoader.load(p, List.of());
            assertEquals(List.of(), ConfigLoader.unusedKeyWarnings(c), p.toString());
            assertResolvedRoundTrips(c, p.toString());
            n++;
        }
        for (Path p : yamlFiles(Path.of("configs", "sweeps"))) {
            for (SweepSpec.Point point : SweepSpec.load(p).points()) {
                assertEquals(List.of(), ConfigLoader.unusedKeyWarnings(point.config()), p + " " + point.name());
                assertResolvedRoundTrips(point.config(), p + " " + point.name());
                n++;
            }
        }
        System.out.println(n + " shipped configs and sweep points: no warnings");
    }

    @Test
    void aCpuRunRecordsFp64AndAnOldConfigThatSaysFp32StillLoads() throws IOException {
        RunConfig c = ConfigLoader.load(write("cpu.yaml", "backend: cpu\n"), List.of());
        assertEquals("fp64", c.precision());
        assertTrue(ConfigLoader.toYaml(c).contains("precision: fp64"), ConfigLoader.toYaml(c));
        RunConfig old = ConfigLoader.load(write("old.yaml", "backend: cpu\nprecision: fp32\n"), List.of());
        assertEquals(c, old);
        assertEquals("fp32", ConfigLoader.load(write("cuda.yaml", "backend: cuda-emulated\n"), List.of()).precision());
        String m = error(() -> ConfigLoader.load(write("cf.yaml", "backend: cuda\nprecision: fp64\n"), List.of()));
        assertTrue(m.contains("precision") && m.contains("fp64"), m);
        m = error(() -> ConfigLoader.load(write("ct.yaml", "backend: cpu\nprecision: bf16\n"), List.of()));
        assertTrue(m.contains("backend cpu computes in fp64"), m);
    }
}
