package ebm.config;

import static org.junit.jupiter.api.Assertions.assertFalse;

import ebm.sweep.SweepSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every config and sweep the project ships parses and validates (every sweep point included). */
class ShippedConfigsTest {
    private static List<Path> yamlFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    @Test
    void runConfigsAndSweepsValidate() throws IOException {
        List<Path> configs = yamlFiles(Path.of("configs"));
        List<Path> sweeps = yamlFiles(Path.of("configs", "sweeps"));
        assertFalse(configs.isEmpty());
        assertFalse(sweeps.isEmpty());
        for (Path p : configs) {
            RunConfig c = ConfigLoader.load(p, List.of());
            System.out.printf("%-40s ok: data %s, objective %s, optimizer %s%n", p, c.data().name(), c.objective().name(),
                    c.optimizer().name());
        }
        for (Path p : sweeps) {
            SweepSpec s = SweepSpec.load(p);
            System.out.printf("%-40s ok: %d runs%n", p, s.points().size());
        }
    }
}
