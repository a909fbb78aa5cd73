package ebm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layers of ARCHITECTURE.md §2, enforced: every reference from one package of the main code to another (an import
 * or a qualified name) points to a layer at or below its own, so the algorithms never depend on a backend and the
 * ground floor depends on nothing.
 */
class LayeringTest {
    /** Package → layer, lowest first; a package not listed fails the test (give it a layer). */
    private static final Map<String, Integer> LAYERS = new LinkedHashMap<>();

    static {
        String[][] floors = {
            {"ebm", "ebm.linalg", "ebm.rng"},
            {"ebm.tape"},
            {"ebm.model"},
            {"ebm.objective", "ebm.optim", "ebm.sample"},
            {"ebm.backend.cuda.bindings"},
            {"ebm.backend.cuda.runtime"},
            {"ebm.backend.cuda.kernels"},
            {"ebm.backend.cuda.tape"},
            {"ebm.backend.cuda.optim"},
            {"ebm.io", "ebm.data", "ebm.config"},
            {"ebm.backend.cuda.step"},
            {"ebm.backend.cuda.parity", "ebm.eval", "ebm.plot"},
            {"ebm.train"},
            {"ebm.sweep", "ebm.bench"},
            {"ebm.cli"},
        };
        for (int layer = 0; layer < floors.length; layer++) for (String p : floors[layer]) LAYERS.put(p, layer);
    }

    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?(ebm(?:\\.[a-z]\\w*)*)\\.[A-Z]", Pattern.MULTILINE);
    private static final Pattern QUALIFIED = Pattern.compile("(?<![\\w.])(ebm(?:\\.[a-z]\\w*)+)\\.[A-Z]");

    @Test
    void mainCodeReferencesPointDown() throws IOException {
        List<String> upward = new ArrayList<>();
        int files = 0, references = 0;
        try (Stream<Path> paths = Files.walk(Path.of("src/main/java"))) {
            for (Path f : paths.filter(p -> p.toString().endsWith(".java")).toList()) {
                String source = Files.readString(f);
                Matcher pm = PACKAGE.matcher(source);
                assertTrue(pm.find(), f + " has no package line");
                String own = pm.group(1);
                Integer ownLayer = LAYERS.get(own);
                assertTrue(ownLayer != null, "package " + own + " (" + f + ") has no layer in LayeringTest");
                files++;
                for (Pattern p : List.of(IMPORT, QUALIFIED)) {
                    Matcher m = p.matcher(source);
                    while (m.find()) {
                        String target = m.group(1);
                        if (target.equals(own)) continue;
                        Integer layer = LAYERS.get(target);
                        if (layer == null) continue; // a nested class's outer type, say
                        references++;
                        if (layer > ownLayer) upward.add(f + ": " + own + " (layer " + ownLayer + ") -> " + target + " (layer " + layer + ")");
                    }
                }
            }
        }
        System.out.printf("layering: %d files, %d cross-package references, %d pointing up%n", files, references, upward.size());
        upward.stream().distinct().limit(20).forEach(System.out::println);
        assertTrue(files > 100 && references > 100, "the scan found too little to mean anything");
        assertTrue(upward.isEmpty(), () -> upward.size() + " references point up a layer; the first: " + upward.getFirst());
    }
}
