package ebm.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

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
}
