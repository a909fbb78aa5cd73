package ebm.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * native-build/bundle.sh: runs jlink (about 20-30 s on 2 cores) to bundle target/ebm.jar and target/lib, which
 * pom.xml makes at process-classes so they exist during `mvn test` (./ebm test, CI); then runs the bundle with no
 * JDK in sight: JAVA_HOME unset and a `java` on PATH that fails.
 */
@Tag("jlink")
@DisplayName("bundle.sh (runs jlink): a self-contained bundle under 60 MB that trains and plots headless")
class BundleScriptTest {
    private static final Path BUNDLE_SH = Script.ROOT.resolve("native-build/bundle.sh");

    private static void assumeJarsBuilt() {
        assumeTrue(Files.isRegularFile(Script.ROOT.resolve("target/ebm.jar")) && Files.isDirectory(Script.ROOT.resolve("target/lib")),
                "target/ebm.jar and target/lib are made at process-classes by mvn (test|package); run through Maven");
    }

    private static long treeBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    /** An environment with no JDK: JAVA_HOME unset, a failing java/javac first on PATH, a display that is not there. */
    private static Map<String, String> noJdk(Path tmp) throws IOException {
        Path poison = Files.createDirectories(tmp.resolve("poison"));
        for (String tool : new String[] {"java", "javac"}) {
            Path f = poison.resolve(tool);
            Files.writeString(f, "#!/bin/sh\necho \"the bundle ran $0 from PATH\" >&2\nexit 97\n");
            assertTrue(f.toFile().setExecutable(true));
        }
        Map<String, String> env = new HashMap<>();
        env.put("JAVA_HOME", null);
        env.put("JDK_HOME", null);
        env.put("PATH", poison + ":/usr/bin:/bin");
        env.put("DISPLAY", ":987");
        env.put("HOME", tmp.resolve("home").toString());
        env.put("EBM_RUNTIME_CACHE", tmp.resolve("runtime-cache").toString());
        return env;
    }

    @Test
    void bundleRunsWithoutAJdkAndRendersPlotsHeadless(@TempDir Path tmp) throws IOException {
        assumeJarsBuilt();
        Path dir = tmp.resolve("bundle");
        Script made = Script.run(Script.ROOT, Map.of("JAVA_HOME", Script.javaHome()), 240,
                Script.bash(BUNDLE_SH, "--no-build", "--no-kernels", dir.toString()).toArray(String[]::new));
        assertEquals(0, made.exitCode(), made.output());
        assertTrue(made.output().contains("bundle size:"), made.output());

        long bytes = treeBytes(dir);
        System.out.printf("bundle: %.1f MB%n", bytes / 1e6);
        assertTrue(bytes < 60_000_000L, "bundle is " + bytes + " bytes");
        for (String f : new String[] {"ebm", "runtime.tar.gz", "runtime.id", "BUNDLE.md", "target/ebm.jar",
                "configs/quickstart.yaml", "bench/gpu-check.sh"}) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        assertTrue(Files.isExecutable(dir.resolve("ebm")));
        assertFalse(Files.exists(dir.resolve("target/native/ebm_kernels.fatbin")), "--no-kernels bundled a fatbin");
        try (Stream<Path> jars = Files.list(dir.resolve("target/lib"))) {
            assertTrue(jars.anyMatch(p -> p.getFileName().toString().startsWith("xchart")));
        }
        String manifest = Files.readString(dir.resolve("BUNDLE.md"));
        assertTrue(manifest.contains("java.desktop") && manifest.contains("jdk.incubator.vector"), manifest);

        Map<String, String> env = noJdk(tmp);
        String ebm = dir.resolve("ebm").toString();
        Script version = Script.run(tmp, env, 60, ebm, "--version");
        assertEquals(0, version.exitCode(), version.output());
        assertTrue(version.output().contains("ebm "), version.output());
        assertFalse(version.output().contains("from PATH"), version.output());
        String id = Files.readString(dir.resolve("runtime.id")).strip();
        assertTrue(Files.isExecutable(tmp.resolve("runtime-cache").resolve(id).resolve("bin/java")), "runtime not unpacked");
        checkHeap(dir, env);

        Path points = tmp.resolve("moons.npy");
        Script data = Script.run(tmp, env, 60, ebm, "data", "moons", "--n", "10", "--out", points.toString());
        assertEquals(0, data.exitCode(), data.output());
        assertTrue(Files.size(points) > 0);

        Path run = tmp.resolve("run");
        Script train = Script.run(tmp, env, 120, ebm, "train", dir.resolve("configs/quickstart.yaml").toString(),
                "--set", "train.steps=20", "--set", "train.warmup=5", "--out", run.toString());
        assertEquals(0, train.exitCode(), train.output());
        for (String png : new String[] {"loss.png", "energy.png"}) {
            BufferedImage image = ImageIO.read(run.resolve(png).toFile());
            assertTrue(image != null && image.getWidth() == 800 && image.getHeight() == 600, png + " is not an 800x600 PNG");
        }
        assertEquals(bytes, treeBytes(dir), "running the bundle changed its folder");
    }

    /** The memory a share of EBM_HEAP is taken of: MemTotal, or the cgroup's limit when lower (KiB). */
    private static long memoryKib() throws IOException {
        Matcher m = Pattern.compile("(?m)^MemTotal:\\s+(\\d+) kB").matcher(Files.readString(Path.of("/proc/meminfo")));
        assertTrue(m.find());
        long kib = Long.parseLong(m.group(1));
        for (String f : new String[] {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
            Path p = Path.of(f);
            if (!Files.isReadable(p)) continue;
            String v = Files.readString(p).strip();
            if (v.matches("\\d+") && Long.parseLong(v) / 1024 < kib) kib = Long.parseLong(v) / 1024;
        }
        return kib;
    }

    /** The "java heap:" line of `ebm info`: the maximum heap in MiB and how the launcher chose it. */
    private static Matcher heapLine(Script info) {
        assertEquals(0, info.exitCode(), info.output());
        Matcher m = Pattern.compile("(?m)^java heap: +max [0-9.]+ GiB \\((\\d+) MiB; (.+)\\)$").matcher(info.output());
        assertTrue(m.find(), info.output());
        return m;
    }

    private static void assertHeapNear(long mib, long expectedMib, String output) {
        assertTrue(mib >= expectedMib * 85 / 100 && mib <= expectedMib + 64, "heap " + mib + " MiB, expected about " + expectedMib + ":\n" + output);
    }

    /** The launcher's -Xmx: 75% of memory by default, EBM_HEAP as a size or a share, one-line errors otherwise. */
    private static void checkHeap(Path dir, Map<String, String> env) throws IOException {
        String ebm = dir.resolve("ebm").toString();
        String launcher = Files.readString(dir.resolve("ebm"));
        assertFalse(launcher.contains("@JVM_ARGS@"), "the JVM flags were not put into the launcher");
        assertTrue(launcher.contains("--enable-native-access=ALL-UNNAMED") && launcher.contains("EBM_HEAP"), launcher);
        assertTrue(Files.readString(dir.resolve("BUNDLE.md")).contains("EBM_HEAP"));

        long expected = memoryKib() * 75 / 100 / 1024;
        Map<String, String> plain = new HashMap<>(env);
        plain.put("EBM_HEAP", null);
        Script info = Script.run(dir, plain, 60, ebm, "info");
        Matcher m = heapLine(info);
        assertTrue(m.group(2).startsWith("-Xmx" + expected + "m: 75% of ") && m.group(2).endsWith("the default (EBM_HEAP unset)"), info.output());
        assertHeapNear(Long.parseLong(m.group(1)), expected, info.output());

        Map<String, String> sized = new HashMap<>(env);
        sized.put("EBM_HEAP", "300m");
        info = Script.run(dir, sized, 60, ebm, "info");
        m = heapLine(info);
        assertEquals("-Xmx300m, from EBM_HEAP=300m", m.group(2), info.output());
        assertHeapNear(Long.parseLong(m.group(1)), 300, info.output());

        sized.put("EBM_HEAP", "10%");
        info = Script.run(dir, sized, 60, ebm, "info");
        m = heapLine(info);
        long tenth = memoryKib() * 10 / 100 / 1024;
        assertTrue(m.group(2).startsWith("-Xmx" + tenth + "m: 10% of ") && m.group(2).endsWith("from EBM_HEAP=10%"), info.output());
        assertHeapNear(Long.parseLong(m.group(1)), tenth, info.output());

        for (String[] bad : new String[][] {{"lots", "EBM_HEAP='lots' is not a heap size"}, {"300", "EBM_HEAP='300' is not a heap size"},
                {"0%", "EBM_HEAP=0%: a share of memory must be 1% to 100%"}}) {
            sized.put("EBM_HEAP", bad[0]);
            Script r = Script.run(dir, sized, 60, ebm, "info");
            assertEquals(2, r.exitCode(), r.output());
            assertTrue(r.output().strip().startsWith("ebm: " + bad[1]) && r.output().strip().lines().count() == 1, r.output());
        }
    }

    @Test
    void withoutNvccItStopsAndNamesNoKernels(@TempDir Path tmp) {
        Script r = Script.run(Script.ROOT, Map.of("JAVA_HOME", Script.javaHome(), "PATH", "/usr/bin:/bin",
                "NVCC", "/nonexistent/nvcc", "CUDA_HOME", "/nonexistent"), 60,
                Script.bash(BUNDLE_SH, "--no-build", tmp.resolve("bundle").toString()).toArray(String[]::new));
        assertNotEquals(0, r.exitCode());
        assertTrue(r.output().contains("nvcc not found") && r.output().contains("--no-kernels"), r.output());
        assertFalse(Files.exists(tmp.resolve("bundle")), "it should stop before making anything");
    }

    @Test
    void refusesAFolderThatIsNotABundle(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("keep.txt"), "mine");
        Script r = Script.run(Script.ROOT, Map.of("JAVA_HOME", Script.javaHome()), 60,
                Script.bash(BUNDLE_SH, "--no-build", "--no-kernels", tmp.toString()).toArray(String[]::new));
        assertNotEquals(0, r.exitCode());
        assertTrue(r.output().contains("not empty"), r.output());
        assertTrue(Files.exists(tmp.resolve("keep.txt")));
    }
}
