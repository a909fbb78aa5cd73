package ebm.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ebm.cli.Cli;
import ebm.io.Npy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tests of python/ebmtools (results in Python: checkpoints as NumPy energies, metrics.jsonl and results.csv as
 * arrays), run in the one test command. First `ebm eval` runs on the eval fixtures and on a checkpoint of a tiny
 * sweep trained here, so the Python tests compare E, ΔE, ∇E and the Hessian diagonal with what `ebm eval` writes
 * (EBM_EVAL_DIR) and read the sweep's results.csv and metrics (EBM_SWEEP_DIR). Each interpreter that has numpy runs
 * them: `python3` on the PATH and Debian's /usr/bin/python3 (or those EBM_PYTHON lists, separated by spaces); torch's
 * tests are skipped inside an interpreter without torch. Skipped when no interpreter has numpy.
 */
class PythonToolsTest {
    @TempDir
    Path tmp;

    private static final String[] FIXTURES = {"softplus-f64", "gelu-f32", "tanh-f64", "silu-f32"};

    private static final String SWEEP = """
            base:
              seed: 1
              data: {name: two-peaks, seed: 0, n_train: 400, n_val: 100}
              model: {hidden: [8, 6], activation: silu}
              train: {steps: 20, batch_size: 32, eval_every: 5, checkpoint_every: 5}
            grid:
              objective.name: [exact]
            variants:
              sgd: {optimizer.name: sgd, optimizer.lr: [0.01, 1e12]}
              adamw: {optimizer.name: adamw, optimizer.lr: [0.01]}
            """;

    @Test
    void theEbmtoolsTestsPass() throws IOException {
        Map<String, String> interpreters = interpretersWithNumpy();
        assumeTrue(!interpreters.isEmpty(), "skipped: no python3 with numpy found");

        Path eval = Files.createDirectories(tmp.resolve("eval"));
        for (String name : FIXTURES) {
            copyResource(name + ".safetensors", eval);
            copyResource(name + "-points.npy", eval);
            ebmEval(eval, name);
        }
        Path sweepFile = tmp.resolve("tiny.yaml");
        Files.writeString(sweepFile, SWEEP);
        Path sweep = tmp.resolve("sweep");
        Cli r = Cli.run("sweep", sweepFile.toString(), "--out", sweep.toString());
        assertEquals(0, r.exitCode(), r.err());
        Files.copy(sweep.resolve("runs/exact_adamw_lr0.01/checkpoint.safetensors"), eval.resolve("trained.safetensors"));
        long seed = 17;
        System.out.println("seed=" + seed + " (fixed): points for the trained checkpoint");
        Random rng = new Random(seed);
        double[] points = new double[9 * 2];
        for (int i = 0; i < points.length; i++) points[i] = 2.5 * rng.nextGaussian();
        Npy.write(eval.resolve("trained-points.npy"), 9, 2, points);
        ebmEval(eval, "trained");

        Map<String, String> env = Map.of("EBM_EVAL_DIR", eval.toString(), "EBM_SWEEP_DIR", sweep.toString());
        for (Map.Entry<String, String> py : interpreters.entrySet()) {
            System.out.println("== " + py.getKey() + ": " + py.getValue());
            Script t = Script.run(Script.ROOT, env, 180, py.getKey(), "-m", "unittest", "discover", "-s", "python/tests", "-v");
            assertEquals(0, t.exitCode(), py.getKey() + ":\n" + t.output());
            assertTrue(t.output().contains("\nOK"), t.output());
        }
    }

    /** Interpreter -> "its executable, numpy X, torch Y|absent", one entry per distinct executable. */
    private static Map<String, String> interpretersWithNumpy() {
        String listed = System.getenv("EBM_PYTHON");
        List<String> candidates = listed != null && !listed.isBlank()
                ? List.of(listed.trim().split("\\s+")) : List.of("python3", "/usr/bin/python3");
        Map<String, String> found = new LinkedHashMap<>();
        List<String> executables = new ArrayList<>();
        for (String py : candidates) {
            Script probe;
            try {
                probe = Script.run(Script.ROOT, Map.of(), 30, py, "-c", "import os, sys, numpy\n"
                        + "try:\n    import torch; t = torch.__version__\nexcept ImportError:\n    t = 'absent'\n"
                        + "print(os.path.realpath(sys.executable), 'numpy', numpy.__version__, 'torch', t)");
            } catch (RuntimeException e) { // no such program
                System.out.println(py + ": " + e.getMessage());
                continue;
            }
            if (probe.exitCode() != 0) continue;
            String line = probe.output().strip().lines().reduce((a, b) -> b).orElse("");
            String exe = line.split(" ")[0];
            if (!executables.contains(exe)) {
                executables.add(exe);
                found.put(py, line);
            }
        }
        return found;
    }

    private void copyResource(String name, Path dir) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/fixtures/eval/" + name)) {
            Files.copy(in, dir.resolve(name));
        }
    }

    private static void ebmEval(Path dir, String name) {
        Cli r = Cli.run("eval", "--checkpoint", dir.resolve(name + ".safetensors").toString(), "--data",
                dir.resolve(name + "-points.npy").toString(), "--out", dir.resolve(name + "-ebm-eval.npy").toString());
        assertEquals(0, r.exitCode(), r.err());
    }
}
