package ebm.train;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What a termination signal (SIGTERM from a scheduler, Ctrl-C) does to the runs of this JVM. {@link #JVM} installs a
 * shutdown hook; the hook asks every holder of a {@link Ticket} (a running trainer, a sweep) to stop, and waits, at
 * most {@link #waitMillis()} in all, for each to close its ticket. A trainer looks at its ticket at the end of every
 * step: it writes the checkpoint of that step (so the checkpoint is consistent: parameters, optimizer and detector
 * state and metrics of one step), prints how to resume and closes the ticket; only then does the JVM exit. Once the
 * hook has run no new ticket is handed out, so a sweep starts nothing new.
 */
public final class StopSignal {
    /** The JVM's signal, through a shutdown hook installed on first use. */
    public static final StopSignal JVM = new StopSignal(true, System.err);

    private final Object lock = new Object();
    private final Set<Ticket> active = new LinkedHashSet<>();
    private final boolean installHook;
    private boolean hookInstalled;
    private boolean stopping;
    private final PrintStream err;

    StopSignal(boolean installHook, PrintStream err) {
        this.installHook = installHook;
        this.err = err;
    }

    /** How long the hook waits for the runs to write their checkpoints: -Debm.stop_wait_seconds, default 25 s. */
    static long waitMillis() {
        return Math.round(1000 * Double.parseDouble(System.getProperty("ebm.stop_wait_seconds", "25")));
    }

    /** A run's handle on the signal; closing it tells the hook this run is done (checkpointed, or ended otherwise). */
    public final class Ticket implements AutoCloseable {
        private volatile boolean requested;
        private volatile String ifLate;
        private final CountDownLatch closed = new CountDownLatch(1);

        private Ticket(String ifLate) {
            this.ifLate = ifLate;
        }

        /** True once a termination signal asked this run to stop. */
        public boolean requested() {
            return requested;
        }

        /** What the hook prints should this run not close its ticket in time (say where the last checkpoint is). */
        public void ifLate(String message) {
            this.ifLate = message;
        }

        @Override
        public void close() {
            synchronized (lock) {
                active.remove(this);
            }
            closed.countDown();
        }
    }

    /**
     * A ticket for a run about to start; refused with {@link TrainingStopped} once a signal has come, so that nothing
     * new starts while the JVM goes down.
     */
    public Ticket enter(String ifLate) {
        synchronized (lock) {
            if (installHook && !hookInstalled) {
                try {
                    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "ebm-stop-signal"));
                } catch (IllegalStateException shuttingDown) {
                    stopping = true;
                }
                hookInstalled = true;
            }
            if (stopping) throw new TrainingStopped("stopped by a termination signal before it started");
            Ticket t = new Ticket(ifLate);
            active.add(t);
            return t;
        }
    }

    /** True once a termination signal has come. */
    public boolean stopping() {
        synchronized (lock) {
            return stopping;
        }
    }

    /** The hook: ask every run to stop, then wait for them (bounded); package-private so a test can play the signal. */
    void stopAll() {
        awaitAll(requestAll());
    }

    /** The first half of the hook: refuse new tickets and mark every open one; returns those to wait for. */
    List<Ticket> requestAll() {
        List<Ticket> waiting;
        synchronized (lock) {
            stopping = true;
            waiting = new ArrayList<>(active);
        }
        for (Ticket t : waiting) t.requested = true;
        return waiting;
    }

    /** The second half: wait, at most {@link #waitMillis()} in all, for those tickets to close. */
    void awaitAll(List<Ticket> waiting) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis());
        for (Ticket t : waiting) {
            try {
                if (!t.closed.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    err.println("ebm: " + t.ifLate);
                    err.flush();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
