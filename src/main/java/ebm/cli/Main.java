package ebm.cli;

import ebm.EbmException;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** Entry point: `ebm COMMAND ...`. User errors print one line (`ebm: ...`) and exit 2; nothing else is hidden. */
@Command(name = "ebm", mixinStandardHelpOptions = true, version = "ebm 0.1.0",
        description = "Energy-based models trained by score matching.",
        subcommands = {CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @Option(names = {"-v", "--verbose"}, description = "Debug logging.", scope = CommandLine.ScopeType.INHERIT)
    void verbose(boolean on) {
        if (on) {
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("ebm"))
                    .setLevel(ch.qos.logback.classic.Level.DEBUG);
        }
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        for (Object sub : Commands.all()) cl.addSubcommand(sub);
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            Throwable t = ex;
            while (!(t instanceof EbmException) && t.getCause() != null) t = t.getCause();
            PrintWriter err = line.getErr();
            if (t instanceof EbmException) {
                err.println("ebm: " + t.getMessage());
            } else {
                err.println("ebm: internal error: " + ex);
                ex.printStackTrace(err);
            }
            err.flush();
            return 2;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
