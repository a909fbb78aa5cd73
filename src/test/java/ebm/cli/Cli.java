package ebm.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs `ebm ARGS...` in-process and captures its exit code, standard output and error output. */
public record Cli(int exitCode, String out, String err) {

    public static Cli run(String... args) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        int code;
        try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            code = Main.commandLine().setErr(new PrintWriter(err, true)).execute(args);
        } finally {
            System.setOut(saved);
        }
        Cli r = new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString());
        System.out.printf("ebm %s -> exit %d%s%n", String.join(" ", args), code,
                r.err.isBlank() ? "" : ", stderr: " + r.err.strip());
        return r;
    }

    /** `ebm ARGS` as a separate JVM (signals, locks, crashes), its output into log. */
    static ProcessBuilder process(Path log, String... args) {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Debm.threads=1", "-cp", classpath,
                Main.class.getName()));
        command.addAll(java.util.List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    }

    /** Lines in a file so far (0 while it does not exist): how far a running process has got. */
    static long lines(Path file) throws java.io.IOException {
        if (!java.nio.file.Files.exists(file)) return 0;
        long n = 0;
        for (byte c : java.nio.file.Files.readAllBytes(file)) if (c == '\n') n++;
        return n;
    }

    /**
     * Waits until `metrics` has at least `steps` lines while process p runs (at most 120 s); fails showing its log when
     * it ends first or takes longer (what is being waited for named by `what`).
     */
    static void awaitSteps(Process p, Path metrics, long steps, Path log, String what) throws java.io.IOException, InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
        while (lines(metrics) < steps) {
            if (!p.isAlive()) org.junit.jupiter.api.Assertions.fail(what + " ended before the signal was sent:\n" + java.nio.file.Files.readString(log));
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                org.junit.jupiter.api.Assertions.fail(what + " did not reach step " + steps + " in 120 s:\n" + java.nio.file.Files.readString(log));
            }
            Thread.sleep(5);
        }
    }
}
