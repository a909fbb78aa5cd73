package ebm.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/gpu-check.sh on this GPU-less machine: a stage through the repository's ./ebm writes its section of
 * report.md and the script exits with the stage's status; the parity comparison and the all-stages driver are
 * checked with a stand-in launcher (EBM=...), so no GPU and no training run is needed for them.
 */
class GpuCheckScriptTest {
    private static final Path GPU_CHECK = Script.ROOT.resolve("bench/gpu-check.sh");

    private static Script gpuCheck(Map<String, String> env, String... args) {
        return Script.run(Script.ROOT, env, 300, Script.bash(GPU_CHECK, args).toArray(String[]::new));
    }

    private static Map<String, String> viaRepoLauncher() {
        Map<String, String> env = new HashMap<>();
        env.put("JAVA_HOME", Script.javaHome());
        env.put("EBM", null);
        return env;
    }

    /** The exit code the report's section for {@code stage} records (the last such section). */
    private static int recordedExitCode(String report, String stage) {
        int at = report.lastIndexOf("\n## " + stage + ":");
        assertTrue(at >= 0, "no section for " + stage + " in:\n" + report);
        Matcher m = Pattern.compile("- exit code: (\\d+)").matcher(report.substring(at));
        assertTrue(m.find(), report);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void validateStageThroughTheRepoLauncherPassesAndIsReported(@TempDir Path out) throws IOException {
        assumeTrue(Files.isRegularFile(Script.ROOT.resolve("target/ebm.jar")), "target/ebm.jar is made by mvn (process-classes)");
        Script r = gpuCheck(viaRepoLauncher(), out.toString(), "validate");
        String report = Files.readString(out.resolve("report.md"));
        System.out.println(report);
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(0, recordedExitCode(report, "validate"));
        assertTrue(report.contains("## validate: passed"), report);
        assertTrue(report.contains("$ " + Script.ROOT.resolve("ebm") + " validate"), report);
        assertTrue(report.contains("- GPU: ") && report.contains("- wall time: ") && report.contains("- date: "), report);
        assertTrue(Files.isRegularFile(out.resolve("logs/validate.log")));
    }

    @Test
    void infoStageExitsWithTheStatusItRecords(@TempDir Path out) throws IOException {
        assumeTrue(Files.isRegularFile(Script.ROOT.resolve("target/ebm.jar")), "target/ebm.jar is made by mvn (process-classes)");
        Script r = gpuCheck(viaRepoLauncher(), out.toString(), "info");
        String report = Files.readString(out.resolve("report.md"));
        assertEquals(recordedExitCode(report, "info"), r.exitCode(), report);
        assertTrue(report.contains("ebm info") && report.contains("nvidia-smi"), report);
    }

    @Test
    void helpListsTheStagesAndUnknownStagesAreRefused(@TempDir Path out) {
        Script help = gpuCheck(Map.of(), "--help");
        assertEquals(0, help.exitCode());
        int last = -1;
        // the peers run before the stages that compare with them
        for (String stage : List.of("info", "validate", "sanitizer", "parity", "peers", "trace-peers", "trace", "trace-tf32", "trace-large", "kernels")) {
            int at = help.output().indexOf("\n  " + stage + " ");
            assertTrue(at >= 0, stage + " missing from --help:\n" + help.output());
            assertTrue(at > last, stage + " out of order in --help:\n" + help.output());
            last = at;
        }
        Script bad = gpuCheck(Map.of(), out.toString(), "nonsense");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.output().contains("unknown stage 'nonsense'"), bad.output());
    }

    /**
     * A stand-in for ebm: `train ... --set backend=B ... --out DIR` writes a 100-step metrics.jsonl whose loss
     * crosses zero (cuda's scaled by $FAKE_CUDA_SCALE, with val_loss on eval steps); `info` fails; anything else
     * succeeds.
     */
    private static Path fakeLauncher(Path tmp) throws IOException {
        Path f = tmp.resolve("fake-ebm");
        Files.writeString(f, """
                #!/usr/bin/env bash
                [ "$1" = info ] && { echo "fake: no info"; exit 3; }
                [ "$1" = train ] || { echo "fake: $*"; exit 0; }
                backend=cpu; out=
                while [ $# -gt 0 ]; do
                  case "$1" in
                    --set) case "$2" in backend=*) backend="${2#backend=}" ;; esac; shift ;;
                    --out) out="$2"; shift ;;
                  esac
                  shift
                done
                mkdir -p "$out"
                awk -v b="$backend" -v s="${FAKE_CUDA_SCALE:-1}" 'BEGIN { for (i = 1; i <= 100; i++) {
                  l = 0.5 - 0.01 * i; if (b == "cuda") l = l * s
                  printf "{\\"step\\":%d,\\"loss\\":%.17g,\\"grad_norm\\":1.5E-4%s}\\n", i, l, (i % 50 == 0 ? ",\\"val_loss\\":-9.0" : "")
                } }' > "$out/metrics.jsonl"
                """);
        assertTrue(f.toFile().setExecutable(true));
        return f;
    }

    @Test
    void parityComparesThePerStepLoss(@TempDir Path tmp) throws IOException {
        Path fake = fakeLauncher(tmp);
        Script close = gpuCheck(Map.of("EBM", fake.toString(), "FAKE_CUDA_SCALE", "1.0005"), tmp.resolve("a").toString(), "parity");
        String log = Files.readString(tmp.resolve("a/logs/parity.log"));
        assertEquals(0, close.exitCode(), log);
        assertTrue(log.contains("steps compared: 100") && log.contains("max relative difference: 5.000e-04"), log);
        assertTrue(log.contains("parity: passed"), log);

        Script far = gpuCheck(Map.of("EBM", fake.toString(), "FAKE_CUDA_SCALE", "1.002"), tmp.resolve("b").toString(), "parity");
        log = Files.readString(tmp.resolve("b/logs/parity.log"));
        assertEquals(1, far.exitCode(), log);
        assertTrue(log.contains("max relative difference: 2.000e-03") && log.contains("parity: FAILED"), log);
        assertTrue(Files.readString(tmp.resolve("b/report.md")).contains("## parity: FAILED"));
    }

    @Test
    void allStagesGoOnAfterAFailureAndExitNonZero(@TempDir Path tmp) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("EBM", fakeLauncher(tmp).toString());
        env.put("PATH", "/usr/bin:/bin"); // no compute-sanitizer, no nvidia-smi
        env.put("CUDA_HOME", "/nonexistent");
        env.put("PYTHON", "/nonexistent/python3");
        Path out = tmp.resolve("out");
        Script r = gpuCheck(env, out.toString());
        String report = Files.readString(out.resolve("report.md"));
        assertNotEquals(0, r.exitCode(), report);
        assertTrue(report.contains("## info: FAILED"), report);
        for (String stage : List.of("validate", "parity", "trace", "trace-tf32", "trace-large", "kernels")) {
            assertTrue(report.contains("## " + stage + ": passed"), stage + ":\n" + report);
        }
        assertTrue(report.contains("## sanitizer: skipped: compute-sanitizer not found"), report);
        assertTrue(report.contains("## peers: skipped: /nonexistent/python3 not found"), report);
        assertTrue(report.contains("## trace-peers: skipped: /nonexistent/python3 not found"), report);
        assertTrue(report.indexOf("## peers:") < report.indexOf("## trace-peers:")
                && report.indexOf("## trace-peers:") < report.indexOf("## trace:")
                && report.indexOf("## peers:") < report.indexOf("## kernels:"), "stage order:\n" + report);
        assertTrue(r.output().contains("failed stages: info"), r.output());
        // no peer files were written, so the trace stage ran without --peer
        assertTrue(!Files.readString(out.resolve("logs/trace.log")).contains("--peer"));
    }

    @Test
    void traceStagePassesEveryTracePeerFileTheTracePeersStageWrote(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        Files.createDirectories(out.resolve("peers"));
        Files.writeString(out.resolve("peers/torch_trace.csv"), "method,D\nexact,16\n");
        Files.writeString(out.resolve("peers/jax_trace.csv"), "method,D\nexact,16\n");
        Files.writeString(out.resolve("peers/torch_kernels.csv"), "family\n"); // not a trace peer
        Script r = gpuCheck(Map.of("EBM", fakeLauncher(tmp).toString()), out.toString(), "trace");
        String log = Files.readString(out.resolve("logs/trace.log"));
        System.out.println(log);
        assertEquals(0, r.exitCode(), log);
        String peers = out.resolve("peers") + "/";
        assertTrue(log.contains("--peer " + peers + "jax_trace.csv --peer " + peers + "torch_trace.csv --out " + out
                + "/trace"), log);
        assertTrue(!log.contains("torch_kernels.csv"), log);
    }
}
