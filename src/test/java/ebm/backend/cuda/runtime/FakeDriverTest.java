package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The driver-API and cuBLAS bindings end to end without a GPU: builds the test doubles in src/test/native (the
 * libcuda one against the installed cuda.h, so prototypes and versioned symbol names are the header's) and runs
 * {@link FakeDriverScenarios} in a child JVM with EBM_LIBCUDA / EBM_LIBCUBLAS pointing at them. Skipped (never
 * passed) where there is no C compiler or no cuda.h. The double runs ebm's kernels through their host build, so the
 * training step and the sampler go through the DriverLauncher too. What it cannot show: GPU kernels, real cuBLAS
 * numerics, real stream asynchrony; DriverLauncherGpuTest covers those on a GPU.
 */
class FakeDriverTest {

    private static Path cudaInclude() {
        List<Path> candidates = new ArrayList<>();
        String home = System.getenv("CUDA_HOME");
        if (home != null && !home.isBlank()) candidates.add(Path.of(home, "include"));
        candidates.add(Path.of("/usr/local/cuda/include"));
        for (Path p : candidates) if (Files.isRegularFile(p.resolve("cuda.h"))) return p;
        return null;
    }

    private static String compiler() {
        for (String cc : List.of("gcc", "cc", "clang")) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
                if (Files.isExecutable(Path.of(dir, cc))) return Path.of(dir, cc).toString();
            }
        }
        return null;
    }

    private static String run(List<String> command, java.util.Map<String, String> env, long seconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process process = pb.start();
        byte[] output = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(seconds, TimeUnit.SECONDS), "timed out: " + command);
        String text = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + "\n" + text);
        return text;
    }

    @Test
    void bindingsLauncherGraphsAndCublasAgainstTestDoubles() throws Exception {
        Path include = cudaInclude();
        String cc = compiler();
        Assumptions.assumeTrue(include != null, "skipped: no cuda.h (CUDA_HOME or /usr/local/cuda)");
        Assumptions.assumeTrue(cc != null, "skipped: no C compiler");
        Path dir = Path.of("target", "fake-cuda").toAbsolutePath();
        Files.createDirectories(dir);
        Path libcuda = dir.resolve("libcuda.so.1"), libcublas = dir.resolve("libcublas.so.13");
        run(List.of(cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O1", "-I", include.toString(), "-o",
                libcuda.toString(), "src/test/native/fake_libcuda.c", "-ldl"), java.util.Map.of(), 60);
        run(List.of(cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O1", "-o", libcublas.toString(),
                "src/test/native/fake_libcublas.c", "-ldl"), java.util.Map.of(), 60);
        Path fatbin = dir.resolve("fake.fatbin"), bad = dir.resolve("bad.fatbin");
        Files.writeString(fatbin, "FAKEBIN: a module only the test double of libcuda accepts");
        Files.writeString(bad, "BADPTX: a module the test double's JIT rejects");

        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss16m", "-cp", classpath, "-Debm.kernels.gpu=" + fatbin,
                "-Debm.kernels.host=" + HostKernelLibrary.location().toAbsolutePath(),
                FakeDriverScenarios.class.getName(), bad.toString(), libcuda.toString(), libcublas.toString());
        // FAKE_CUDA_HOST_KERNELS: the test double runs ebm's kernels through their host build (the training step and
        // the sampler under refused captures); where that library was not built, those scenarios say they skipped.
        String output = run(command, java.util.Map.of("EBM_LIBCUDA", libcuda.toString(), "EBM_LIBCUBLAS", libcublas.toString(),
                "FAKE_CUDA_HOST_KERNELS", HostKernelLibrary.location().toAbsolutePath().toString()), 300);
        System.out.println(output);
        assertTrue(output.contains("all scenarios passed"), output);
    }
}
