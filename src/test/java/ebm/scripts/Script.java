package ebm.scripts;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command of the repository (bash scripts, launchers) as a process and captures its exit code and output. */
record Script(int exitCode, String output) {
    static final Path ROOT = Path.of("").toAbsolutePath(); // Maven runs the tests in the project root

    /** The JDK running the tests (>= 25 under Maven), so the scripts need not search for one. */
    static String javaHome() {
        return System.getProperty("java.home");
    }

    /**
     * Runs {@code command} in {@code dir}, stdout and stderr together, with {@code env} applied to this process's
     * environment (a null value removes the variable); fails the test when it runs longer than {@code seconds}.
     */
    static Script run(Path dir, Map<String, String> env, long seconds, String... command) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        env.forEach((k, v) -> {
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        try {
            Path log = Files.createTempFile("ebm-script", ".log");
            try {
                pb.redirectOutput(log.toFile());
                Process p = pb.start();
                if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    fail(String.join(" ", command) + " ran longer than " + seconds + " s; output:\n"
                            + Files.readString(log, StandardCharsets.UTF_8));
                }
                Script r = new Script(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
                System.out.printf("$ %s -> exit %d%n%s%n", String.join(" ", command), r.exitCode, indent(r.output));
                return r;
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    static List<String> bash(Path script, String... args) {
        List<String> c = new ArrayList<>(List.of("bash", script.toString()));
        c.addAll(List.of(args));
        return c;
    }

    private static String indent(String s) {
        return s.strip().isEmpty() ? "" : "    " + s.strip().replace("\n", "\n    ");
    }
}
