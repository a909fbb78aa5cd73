package ebm.cli;

import ebm.EbmException;
import ebm.HeapLimits;
import ebm.train.TrainingDiverged;
import ebm.train.TrainingStopped;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Entry point: `ebm COMMAND ...`. User errors print one line (`ebm: ...`) and exit 2; a run that diverged prints its
 * one line and exits 3; a run stopped by a termination signal has printed how to resume and exits 128 + the signal
 * (143 for SIGTERM; the JVM sets it). An OutOfMemoryError prints one line with the heap and what to reduce (exit 2).
 * Nothing else is hidden: an internal error prints its stack trace (exit 2).
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

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        // the registered command line, with every subcommand (CommandLine.usage(this, ...) would build a new one that
        // knows only `help`)
        spec.commandLine().usage(System.out);
    }

    /**
     * The command list of a help page: one line per command, its name and summary (its header, else the first
     * sentence of its description, which may run over several description lines).
     */
    static String commandList(CommandLine.Help help) {
        java.util.Map<String, CommandLine.Help> subs = help.subcommands();
        if (subs.isEmpty()) return "";
        int width = subs.keySet().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder sb = new StringBuilder();
        for (java.util.Map.Entry<String, CommandLine.Help> e : subs.entrySet()) {
            sb.append(String.format("  %-" + width + "s  %s%n", e.getKey(), summary(e.getValue().commandSpec())));
        }
        return sb.toString();
    }

    /** A command's one-line summary: its header if it has one, else the first full sentence of its description. */
    static String summary(CommandLine.Model.CommandSpec spec) {
        String[] header = spec.usageMessage().header();
        String text = String.join(" ", header.length > 0 ? header : spec.usageMessage().description()).trim();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[.!?](\\s|$)").matcher(text);
        String sentence = m.find() ? text.substring(0, m.start() + 1) : text;
        int colon = sentence.indexOf(": ");
        return sentence.length() > 80 && colon > 0 ? sentence.substring(0, colon) + "." : sentence; // "X: details."
    }

    private static void useCommandList(CommandLine cl) {
        cl.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST, Main::commandList);
        for (CommandLine sub : cl.getSubcommands().values()) useCommandList(sub);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        for (Object sub : Commands.all()) cl.addSubcommand(sub);
        useCommandList(cl);
        // picocli lets an Error out of execute(); an OutOfMemoryError goes to the handler below like an exception
        CommandLine.IExecutionStrategy run = new CommandLine.RunLast();
        cl.setExecutionStrategy(parse -> {
            try {
                return run.execute(parse);
            } catch (OutOfMemoryError e) {
                throw new CommandLine.ExecutionException(cl, "out of memory", e);
            }
        });
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            Throwable t = ex;
            while (!(t instanceof EbmException) && !(t instanceof OutOfMemoryError) && t.getCause() != null) t = t.getCause();
            PrintWriter err = line.getErr();
            if (t instanceof TrainingStopped) {
                return STOPPED_EXIT_CODE; // the trainer printed how to resume before the JVM was let go
            }
            if (t instanceof OutOfMemoryError oom) {
                err.println("ebm: " + HeapLimits.outOfMemoryLine(oom));
            } else if (t instanceof EbmException) {
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
