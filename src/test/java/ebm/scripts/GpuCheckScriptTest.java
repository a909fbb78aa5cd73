package ebm.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ebm.TestTexts;
import ebm.backend.cuda.runtime.GpuRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/gpu-check.sh on this GPU-less machine: the whole check rehearsed through backend cuda-emulated (--emulated),
 * the GPU mode reporting every GPU stage as skipped, and the driver's budget, caps, grids, parity comparison and OUT
 * layout checked with a stand-in launcher (EBM=...), so no GPU and no training run is needed for those.
 */
class GpuCheckScriptTest {
    private static final Path GPU_CHECK = Script.ROOT.resolve("bench/gpu-check.sh");
    private static final List<String> STAGES = List.of("info", "validate", "parity", "sanitizer", "peers", "trace-peers", "trace",
            "kernels", "trace-large", "trace-tf32");
    private static final Set<String> OUT_FILES = Set.of("report.md", "results.csv", "benchmarks.md", "trace.csv", "kernels.csv", "logs.tar.gz");

    private static Script gpuCheck(Map<String, String> env, String... args) {
        return Script.run(Script.ROOT, env, 300, Script.bash(GPU_CHECK, args).toArray(String[]::new));
    }

    private static Map<String, String> viaRepoLauncher() {
        Map<String, String> env = new HashMap<>();
        env.put("JAVA_HOME", Script.javaHome());
        env.put("EBM", null);
        env.put("GPU_CHECK_WORK", null);
        env.put("GPU_CHECK_BUDGET", null);
        env.put("GPU_CHECK_RESERVE", null);
        return env;
    }

    private static void assumeJar() {
        assumeTrue(Files.isRegularFile(Script.ROOT.resolve("target/ebm.jar")), "target/ebm.jar is made by mvn (process-classes)");
    }

    /** The exit code the report's section for {@code stage} records. */
    private static int recordedExitCode(String report, String stage) {
        int at = report.lastIndexOf("\n## " + stage + ":");
        assertTrue(at >= 0, "no section for " + stage + " in:\n" + report);
        Matcher m = Pattern.compile("- exit code: (\\d+)").matcher(report.substring(at));
        assertTrue(m.find(), report);
        return Integer.parseInt(m.group(1));
    }

    /** OUT holds at most 8 plain files, all of them names the script writes, and no folder. */
    private static void assertOutLayout(Path out) throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            List<Path> entries = s.toList();
            assertTrue(entries.size() <= 8, "more than 8 entries in OUT: " + entries);
            for (Path p : entries) {
                assertTrue(Files.isRegularFile(p), p + " is not a plain file");
                assertTrue(OUT_FILES.contains(p.getFileName().toString()), p + " is not one of " + OUT_FILES);
            }
        }
    }

    private static List<String> archiveEntries(Path out) {
        Script r = Script.run(Script.ROOT, Map.of(), 60, "tar", "-tzf", out.resolve("logs.tar.gz").toString());
        assertEquals(0, r.exitCode(), r.output());
        return r.output().lines().map(l -> l.startsWith("./") ? l.substring(2) : l).toList();
    }

    private static String fromArchive(Path out, String entry) {
        Script r = Script.run(Script.ROOT, Map.of(), 60, "tar", "-xzOf", out.resolve("logs.tar.gz").toString(), "./" + entry);
        assertEquals(0, r.exitCode(), r.output());
        return r.output();
    }

    @Test
    void emulatedRehearsalRunsEveryStageAndLeavesAtMostEightFiles(@TempDir Path tmp) throws IOException {
        assumeJar();
        Path out = tmp.resolve("out");
        Map<String, String> env = viaRepoLauncher();
        env.put("PARITY_STEPS", "40");
        long t0 = System.nanoTime();
        Script r = Script.run(Script.ROOT, env, 240, Script.bash(GPU_CHECK, "--emulated", out.toString()).toArray(String[]::new));
        System.out.printf("emulated rehearsal: %.0f s%n", (System.nanoTime() - t0) * 1e-9);
        String report = Files.readString(out.resolve("report.md"));
        System.out.println(report);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(report.contains("\nmode: emulated"), report);
        Matcher validate = Pattern.compile("(?m)^validate: (\\d+) of (\\d+) checks passed$").matcher(report);
        assertTrue(validate.find(), report);
        assertEquals(validate.group(2), validate.group(1), "every emulated check passes");
        assertTrue(Integer.parseInt(validate.group(2)) > 50, report);
        assertTrue(Pattern.compile("(?m)^parity: passed \\(max rel diff \\d\\.\\d{3}e[-+]\\d+ <= 1e-3\\)$").matcher(report).find(), report);
        for (String stage : List.of("info", "validate", "parity", "trace", "kernels", "trace-large", "trace-tf32")) {
            assertTrue(report.contains("\n## " + stage + ": passed"), stage + ":\n" + report);
            assertEquals(0, recordedExitCode(report, stage), stage);
        }
        TestTexts.assertContains(report,
                "## sanitizer: skipped: compute-sanitizer needs a GPU (--emulated)",
                "## peers: skipped: the GPU peers need a GPU (--emulated)",
                "## trace-peers: skipped: the GPU peers need a GPU (--emulated)",
                "nvidia-smi: skipped (--emulated",
                "--backend cuda-emulated");
        assertTrue(Pattern.compile("(?m)^libcuda\\.so\\.1: .+$").matcher(report).find(), report);
        assertTrue(Pattern.compile("(?m)^java heap: max .+$").matcher(report).find(), report);

        assertOutLayout(out);
        for (String f : List.of("report.md", "results.csv", "benchmarks.md", "trace.csv", "kernels.csv", "logs.tar.gz")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        List<String> entries = archiveEntries(out);
        for (String stage : STAGES) assertTrue(entries.contains("logs/" + stage + ".log"), stage + " log missing: " + entries);
        for (String f : List.of("parity/cpu/metrics.jsonl", "parity/cuda-emulated/metrics.jsonl", "trace/results.csv",
                "trace-large/report.md", "kernels/results.csv", "sanitizer-run/samples/001-n64-s10-eps0.01/samples.npy")) {
            assertTrue(entries.contains(f), f + " missing: " + entries);
        }
        assertTrue(fromArchive(out, "logs/validate.log").contains("checks passed"));

        List<String> results = Files.readAllLines(out.resolve("results.csv"));
        assertEquals("stage,status,exit_code,wall_s,cap_s,grid,detail", results.getFirst());
        assertEquals(STAGES.size() + 1, results.size(), String.join("\n", results));
        String trace = Files.readString(out.resolve("trace.csv"));
        for (String stage : List.of("trace", "trace-large", "trace-tf32")) {
            assertTrue(trace.lines().anyMatch(l -> l.startsWith(stage + ",")), stage + " rows missing:\n" + trace);
        }
        assertTrue(trace.startsWith("stage,method,D,"), trace);
        assertTrue(Files.readString(out.resolve("benchmarks.md")).contains("# trace-large"));

        // one stage again into the same OUT: the others' results come back from the archive
        Script again = Script.run(Script.ROOT, env, 120, Script.bash(GPU_CHECK, "--emulated", out.toString(), "kernels").toArray(String[]::new));
        assertEquals(0, again.exitCode(), again.output());
        String second = Files.readString(out.resolve("report.md"));
        assertTrue(second.contains("\n" + validate.group() + "\n"), second);
        assertTrue(second.contains("\n## parity: passed") && second.contains("\n## kernels: passed"), second);
        assertOutLayout(out);
    }

    @Test
    void withoutAGpuTheGpuModeReportsSkippedNeverPassed(@TempDir Path tmp) throws IOException {
        assumeJar();
        assumeTrue(GpuRuntime.deviceUnavailableReason().isPresent(), "this machine has a GPU");
        Path out = tmp.resolve("out");
        Script r = gpuCheck(viaRepoLauncher(), out.toString(), "info", "validate");
        String report = Files.readString(out.resolve("report.md"));
        System.out.println(report);
        assertEquals(0, r.exitCode(), r.output());
        TestTexts.assertContains(report,
                "## validate: skipped: no GPU",
                "## info: skipped: no GPU");
        assertTrue(Pattern.compile("(?m)^validate: skipped \\(no GPU .+\\)$").matcher(report).find(), report);
        assertTrue(report.contains("\nparity: skipped (not run yet)\n"), report);
        assertTrue(report.contains("$ " + Script.ROOT.resolve("ebm") + " validate"), report);
        assertTrue(report.contains("- GPU: ") && report.contains("- wall time: ") && report.contains("- date: "), report);
        assertTrue(Pattern.compile("(?m)^libcublas\\.so\\.13: not found \\(looked in: .+$").matcher(report).find(), report);
        assertFalse(report.contains("| passed"), report);
        assertEquals(recordedExitCode(report, "info"), r.exitCode(), report);
        assertOutLayout(out);
        assertTrue(fromArchive(out, "logs/validate.log").contains("skipped: no GPU"));
    }

    @Test
    void helpListsTheStagesAndBadInputIsRefused(@TempDir Path out) throws IOException {
        Script help = gpuCheck(Map.of(), "--help");
        assertEquals(0, help.exitCode());
        int last = -1;
        // correctness first, then the peers before the stages that compare with them
        for (String stage : STAGES) {
            int at = help.output().indexOf("\n  " + stage + " ");
            assertTrue(at >= 0, stage + " missing from --help:\n" + help.output());
            assertTrue(at > last, stage + " out of order in --help:\n" + help.output());
            last = at;
        }
        assertTrue(help.output().contains("GPU_CHECK_BUDGET") && help.output().contains("--emulated"), help.output());
        Script bad = gpuCheck(Map.of(), out.toString(), "nonsense");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.output().contains("unknown stage 'nonsense'"), bad.output());
        Script option = gpuCheck(Map.of(), "--emulate", out.toString());
        assertEquals(2, option.exitCode());
        assertTrue(option.output().contains("unknown option --emulate"), option.output());
        Script budget = gpuCheck(Map.of("GPU_CHECK_BUDGET", "6min"), out.toString(), "info");
        assertEquals(2, budget.exitCode());
        assertTrue(budget.output().strip().equals("gpu-check.sh: GPU_CHECK_BUDGET='6min' is not a whole number of seconds > 0"), budget.output());
        Script reserve = gpuCheck(Map.of("GPU_CHECK_BUDGET", "60", "GPU_CHECK_RESERVE", "60"), out.toString(), "info");
        assertEquals(2, reserve.exitCode());
        assertTrue(reserve.output().contains("GPU_CHECK_RESERVE=60 must be less than GPU_CHECK_BUDGET=60"), reserve.output());
        Files.createDirectories(out.resolve("logs"));
        Script foreign = gpuCheck(Map.of(), out.toString(), "info");
        assertEquals(2, foreign.exitCode());
        assertTrue(foreign.output().contains("holds logs, which gpu-check.sh does not write"), foreign.output());
    }

    /**
     * A stand-in for ebm: `info` lists a GPU and fails (exit 3), or with FAKE_NO_GPU set lists none and succeeds;
     * `validate` prints a passing count (after sleeping FAKE_VALIDATE_SLEEP seconds), or with FAKE_NO_GPU "skipped"; `train ... --set backend=B ...
     * --out DIR` writes a 100-step metrics.jsonl whose loss crosses zero (cuda's scaled by $FAKE_CUDA_SCALE, with
     * val_loss on eval steps); anything else succeeds.
     */
    private static Path fakeLauncher(Path tmp) throws IOException {
        Path f = tmp.resolve("fake-ebm");
        Files.writeString(f, """
                #!/usr/bin/env bash
                if [ "$1" = info ]; then
                  if [ -n "${FAKE_NO_GPU:-}" ]; then
                    echo "libcuda.so.1:      not found (looked in: nowhere)"
                    echo "gpu:               n/a (no libcuda.so.1)"
                    echo "gpu backend:       unavailable: no GPU (libcuda.so.1 not found, see above)"
                    exit 0
                  fi
                  echo "libcuda.so.1:      /fake/lib/libcuda.so.1"; echo "gpu 0:             Fake GPU"; echo "fake: info fails"; exit 3
                fi
                if [ "$1" = validate ]; then
                  [ -z "${FAKE_NO_GPU:-}" ] || { echo "skipped: no GPU: libcuda.so.1 not found"; exit 0; }
                  sleep "${FAKE_VALIDATE_SLEEP:-0}"; echo "3 of 3 checks passed"; exit 0
                fi
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

    /** The fake launcher, no nvidia-smi or compute-sanitizer, no python, and a work folder the test can read. */
    private static Map<String, String> fakeEnv(Path tmp) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("EBM", fakeLauncher(tmp).toString());
        env.put("PATH", "/usr/bin:/bin");
        env.put("CUDA_HOME", "/nonexistent");
        env.put("PYTHON", "/nonexistent/python3");
        env.put("GPU_CHECK_WORK", tmp.resolve("work").toString());
        env.put("GPU_CHECK_BUDGET", null);
        env.put("GPU_CHECK_RESERVE", null);
        return env;
    }

    @Test
    void parityComparesThePerStepLoss(@TempDir Path tmp) throws IOException {
        Map<String, String> env = fakeEnv(tmp);
        env.put("FAKE_CUDA_SCALE", "1.0005");
        Script close = gpuCheck(env, tmp.resolve("a").toString(), "parity");
        String log = Files.readString(tmp.resolve("work/logs/parity.log"));
        assertEquals(0, close.exitCode(), log);
        assertTrue(log.contains("steps compared: 100") && log.contains("max relative difference: 5.000e-04"), log);
        assertTrue(log.contains("parity: passed"), log);
        String report = Files.readString(tmp.resolve("a/report.md"));
        assertTrue(report.contains("\nparity: passed (max rel diff 5.000e-04 <= 1e-3)\n"), report);
        assertTrue(fromArchive(tmp.resolve("a"), "logs/parity.log").contains("parity: passed"));

        env.put("FAKE_CUDA_SCALE", "1.002");
        env.put("GPU_CHECK_WORK", tmp.resolve("work-b").toString());
        Script far = gpuCheck(env, tmp.resolve("b").toString(), "parity");
        log = Files.readString(tmp.resolve("work-b/logs/parity.log"));
        assertEquals(1, far.exitCode(), log);
        assertTrue(log.contains("max relative difference: 2.000e-03") && log.contains("parity: FAILED"), log);
        report = Files.readString(tmp.resolve("b/report.md"));
        assertTrue(report.contains("## parity: FAILED"), report);
        assertTrue(Pattern.compile("(?m)^parity: FAILED \\(max rel diff 2\\.000e-03 > 1e-3 at step \\d+; \\d+ of 100 steps over\\)$")
                .matcher(report).find(), report);
    }

    @Test
    void allStagesGoOnAfterAFailureAndExitNonZero(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        Script r = gpuCheck(fakeEnv(tmp), out.toString());
        String report = Files.readString(out.resolve("report.md"));
        assertNotEquals(0, r.exitCode(), report);
        TestTexts.assertContains(report,
                "## info: FAILED: exit 3",
                "\nvalidate: 3 of 3 checks passed\n",
                "\nparity: passed (max rel diff 0.000e+00 <= 1e-3)\n");
        for (String stage : List.of("validate", "parity", "trace", "kernels", "trace-large", "trace-tf32")) {
            assertTrue(report.contains("## " + stage + ": passed"), stage + ":\n" + report);
        }
        TestTexts.assertContains(report,
                "## sanitizer: skipped: compute-sanitizer not found",
                "## peers: skipped: /nonexistent/python3 not found",
                "## trace-peers: skipped: /nonexistent/python3 not found");
        int previous = -1;
        for (String stage : STAGES) {
            int at = report.indexOf("\n## " + stage + ":");
            assertTrue(at > previous, "stage order:\n" + report);
            previous = at;
        }
        assertTrue(r.output().contains("failed stages: info"), r.output());
        // no peer files were written, so the trace stage ran without --peer
        assertFalse(Files.readString(tmp.resolve("work/logs/trace.log")).contains("--peer"));
        assertOutLayout(out);
        List<String> entries = archiveEntries(out);
        for (String stage : STAGES) assertTrue(entries.contains("logs/" + stage + ".log"), stage + ": " + entries);
    }

    @Test
    void noGpuAnywhereSkipsEveryGpuStageAndAGpuOnlyNvidiaSmiSeesFails(@TempDir Path tmp) throws IOException {
        Map<String, String> env = fakeEnv(tmp);
        env.put("FAKE_NO_GPU", "1");
        Path out = tmp.resolve("none");
        Script none = gpuCheck(env, out.toString());
        String report = Files.readString(out.resolve("report.md"));
        assertEquals(0, none.exitCode(), report);
        for (String stage : STAGES) assertTrue(report.contains("\n## " + stage + ": skipped: no GPU"), stage + ":\n" + report);
        assertTrue(Pattern.compile("(?m)^validate: skipped \\(no GPU .+\\)$").matcher(report).find(), report);
        assertTrue(Pattern.compile("(?m)^parity: skipped \\(no GPU .+\\)$").matcher(report).find(), report);
        assertFalse(report.contains("passed"), report);

        // nvidia-smi lists a GPU that ebm does not find (libcuda missing, say): an error, not a skip
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, """
                #!/bin/sh
                case "$*" in
                  -L) echo "GPU 0: NVIDIA H200 (UUID: GPU-fake)" ;;
                  *query*) echo "NVIDIA H200, 580.95.05, 143771 MiB" ;;
                  *) echo "fake nvidia-smi table" ;;
                esac
                """);
        assertTrue(smi.toFile().setExecutable(true));
        env.put("PATH", bin + ":/usr/bin:/bin");
        env.put("GPU_CHECK_WORK", tmp.resolve("work-mismatch").toString());
        Path mismatch = tmp.resolve("mismatch");
        Script bad = gpuCheck(env, mismatch.toString(), "info", "validate", "parity");
        report = Files.readString(mismatch.resolve("report.md"));
        assertEquals(1, bad.exitCode(), report);
        assertTrue(report.contains("\nGPU: NVIDIA H200, 580.95.05, 143771 MiB\n"), report);
        for (String stage : List.of("info", "validate", "parity")) {
            assertTrue(report.contains("## " + stage + ": FAILED"), stage + ":\n" + report);
        }
        assertTrue(Files.readString(tmp.resolve("work-mismatch/logs/validate.log")).contains("nvidia-smi lists a GPU but ebm finds none"));
        assertTrue(report.contains("\nvalidate: FAILED (exit 3)\n"), report);
    }

    @Test
    void benchmarkGridsShrinkWithTheTimeLeftAndStopAtTheReserve(@TempDir Path tmp) throws IOException {
        Map<String, String> env = fakeEnv(tmp);
        env.put("GPU_CHECK_RESERVE", "60");
        // the trace stage alone gets (budget - reserve - 5 s) seconds
        Map<String, String> expected = Map.of("200", "--dims 16,64,256,1024 ", "130", "--dims 16,256,1024 ", "95", "--dims 16,256 ");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            env.put("GPU_CHECK_BUDGET", e.getKey());
            env.put("GPU_CHECK_WORK", tmp.resolve("work-" + e.getKey()).toString());
            Path out = tmp.resolve("out-" + e.getKey());
            Script r = gpuCheck(env, out.toString(), "trace");
            assertEquals(0, r.exitCode(), r.output());
            String log = Files.readString(tmp.resolve("work-" + e.getKey() + "/logs/trace.log"));
            assertTrue(log.contains("bench trace --backend cuda --quick " + e.getValue()), e.getKey() + " s: " + log);
            assertTrue(Files.readString(out.resolve("report.md")).contains("## trace: passed"));
        }
        env.put("GPU_CHECK_BUDGET", "80");
        env.put("GPU_CHECK_WORK", tmp.resolve("work-80").toString());
        Script little = gpuCheck(env, tmp.resolve("out-80").toString(), "trace", "kernels");
        String report = Files.readString(tmp.resolve("out-80/report.md"));
        assertEquals(0, little.exitCode(), report);
        assertTrue(report.contains("## trace: skipped: no time left") && report.contains("## kernels: skipped: no time left"), report);
        assertTrue(report.contains("60 s kept unused"), report);
    }

    @Test
    void aStagePastItsCapIsCutOffAndReported(@TempDir Path tmp) throws IOException {
        Map<String, String> env = fakeEnv(tmp);
        env.put("FAKE_VALIDATE_SLEEP", "120");
        env.put("GPU_CHECK_BUDGET", "14");
        env.put("GPU_CHECK_RESERVE", "0");
        long t0 = System.nanoTime();
        Script r = gpuCheck(env, tmp.resolve("out").toString(), "validate");
        double seconds = (System.nanoTime() - t0) * 1e-9;
        String report = Files.readString(tmp.resolve("out/report.md"));
        assertEquals(124, r.exitCode(), report);
        assertTrue(seconds < 30, "the 14 s budget took " + seconds + " s");
        assertTrue(Pattern.compile("## validate: FAILED: timed out after its cap of \\d+ s").matcher(report).find(), report);
        assertTrue(Pattern.compile("(?m)^validate: FAILED \\(timed out after its cap of \\d+ s\\)$").matcher(report).find(), report);
    }

    @Test
    void aRunKilledMidStageStillLeavesItsReport(@TempDir Path tmp) throws Exception {
        Map<String, String> env = fakeEnv(tmp);
        env.put("FAKE_VALIDATE_SLEEP", "120");
        Path out = tmp.resolve("out");
        ProcessBuilder pb = new ProcessBuilder(Script.bash(GPU_CHECK, out.toString()).toArray(String[]::new))
                .directory(Script.ROOT.toFile()).redirectErrorStream(true).redirectOutput(tmp.resolve("driver.log").toFile());
        env.forEach((k, v) -> {
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        Process p = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                Path report = out.resolve("report.md");
                if (Files.isRegularFile(report) && Files.readString(report).contains("| validate | running (cap 60 s)")) break;
                Thread.sleep(200);
            }
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        String report = Files.readString(out.resolve("report.md"));
        TestTexts.assertContains(report,
                "| validate | running (cap 60 s)",
                "\n## info: FAILED",
                "\nvalidate: skipped (running when this report was written)\n");
        assertTrue(archiveEntries(out).contains("logs/info.log"));
        assertOutLayout(out);
    }

    @Test
    void traceStagePassesEveryTracePeerFileTheTracePeersStageWrote(@TempDir Path tmp) throws IOException {
        Path work = tmp.resolve("work");
        Files.createDirectories(work.resolve("peers"));
        Files.writeString(work.resolve(".ebm-gpu-check"), "made by the test\n");
        Files.writeString(work.resolve("peers/torch_trace.csv"), "method,D\nexact,16\n");
        Files.writeString(work.resolve("peers/jax_trace.csv"), "method,D\nexact,16\n");
        Files.writeString(work.resolve("peers/torch_kernels.csv"), "family\n"); // not a trace peer
        Path out = tmp.resolve("out");
        Script r = gpuCheck(fakeEnv(tmp), out.toString(), "trace");
        String log = Files.readString(work.resolve("logs/trace.log"));
        System.out.println(log);
        assertEquals(0, r.exitCode(), log);
        String peers = work.resolve("peers") + "/";
        assertTrue(log.contains("--peer " + peers + "jax_trace.csv --peer " + peers + "torch_trace.csv --out " + work + "/trace"), log);
        assertFalse(log.contains("torch_kernels.csv"), log);
    }
}
