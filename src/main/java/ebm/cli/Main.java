package ebm.cli;

import ebm.EbmException;
import ebm.train.TrainingDiverged;
import ebm.train.TrainingStopped;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Entry point: `ebm COMMAND ...`. User errors print one line (`ebm: ...`) and exit 2; a run that diverged prints its
 * one line and exits 3; a run stopped by a termination signal has printed how to resume and exits 128 + the signal
 * (143 for SIGTERM; the JVM sets it). Nothing else is hidden: an internal error prints its stack trace (exit 2).
 */
@Command(name = "ebm", mixinStandardHelpOptions = true, version = "ebm 0.1.0",
        description = "Energy-based models trained by score matching.",
        subcommands = {CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** 128 + SIGTERM, what the JVM exits with after the signal; returned too when a stop comes some other way. */
    public static final int STOPPED_EXIT_CODE = 143;

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
            if (t instanceof TrainingStopped) {
                return STOPPED_EXIT_CODE; // the trainer printed how to resume before the JVM was let go
            }
            if (t instanceof EbmException) {
                err.println("ebm: " + t.getMessage());
            } else {
                err.println("ebm: internal error: " + ex);
                ex.printStackTrace(err);
            }
            err.flush();
            return t instanceof TrainingDiverged ? TrainingDiverged.EXIT_CODE : 2;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
