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

    @Test
    void theCpuStepBenchSaysInOneLineWhatToInstallWhenThePeerIsMissing() {
        // needs a python3 without torch; where python3 has torch, the missing-peer path cannot be shown
        Script probe = Script.run(Script.ROOT, Map.of(), 30, "python3", "-c", "import torch");
        assumeTrue(probe.exitCode() != 0, "skipped: this python3 has torch, so the missing-peer path cannot be shown");
        Script r = Script.run(Script.ROOT, Map.of("EBM_PEER_PYTHON", "python3"), 60, "bash", "bench/cpu-step.sh",
                System.getProperty("java.io.tmpdir") + "/cpu-step-no-peer");
        assertEquals(2, r.exitCode(), r.output());
        String out = r.output().strip();
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.contains("has no torch") && out.contains("apt-get install python3-torch"), out);
    }
}
