package ebm.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The peer scripts' own unit tests (bench/peers/tests: argument parsing, skip rules, the CSV columns the Java ratio
 * tables read, the forward Laplacian against finite differences), run in the one test command. They need only
 * python3 and numpy, not torch or JAX; skipped when python3 with numpy is missing.
 */
class PeerScriptsTest {
    @Test
    void thePeerScriptsUnitTestsPass() {
        Script probe = Script.run(Script.ROOT, Map.of(), 30, "python3", "-c", "import numpy");
        assumeTrue(probe.exitCode() == 0, "skipped: python3 with numpy not found (" + probe.output().strip() + ")");
        Script r = Script.run(Script.ROOT, Map.of(), 120, "python3", "-m", "unittest", "discover", "-s", "bench/peers/tests", "-v");
        System.out.println(r.output());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("OK"), r.output());
    }
}
