package ebm.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The shutdown hook's protocol, played without a signal: ask, wait (bounded) for the tickets, start nothing new. */
class StopSignalTest {

    @Test
    void theHookWaitsForTheRunToCloseItsTicket() throws Exception {
        StopSignal signal = new StopSignal(false, System.err);
        StopSignal.Ticket ticket = signal.enter("late");
        assertFalse(ticket.requested());
        Thread hook = new Thread(signal::stopAll);
        hook.start();
        long t0 = System.nanoTime();
        while (!ticket.requested()) Thread.onSpinWait();
        hook.join(200);
        assertTrue(hook.isAlive(), "the hook waits while the run writes its checkpoint");
        ticket.close();
        hook.join(5000);
        assertFalse(hook.isAlive());
        System.out.printf("hook returned %.0f ms after the request%n", (System.nanoTime() - t0) * 1e-6);
        assertTrue(signal.stopping());
        assertThrows(TrainingStopped.class, () -> signal.enter("x"), "nothing new starts once the signal came");
    }

    @Test
    void theWaitIsBoundedAndSaysWhatIsLeft() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StopSignal signal = new StopSignal(false, new PrintStream(err, true, StandardCharsets.UTF_8));
        StopSignal.Ticket stuck = signal.enter("first message");
        stuck.ifLate("its last checkpoint is step 40");
        String saved = System.getProperty("ebm.stop_wait_seconds");
        System.setProperty("ebm.stop_wait_seconds", "0.3");
        try {
            long t0 = System.nanoTime();
            signal.stopAll();
            double ms = (System.nanoTime() - t0) * 1e-6;
            System.out.printf("gave up after %.0f ms: %s", ms, err.toString(StandardCharsets.UTF_8));
            assertTrue(ms >= 250 && ms < 5000, "waited " + ms + " ms");
        } finally {
            if (saved == null) System.clearProperty("ebm.stop_wait_seconds");
            else System.setProperty("ebm.stop_wait_seconds", saved);
        }
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("ebm: its last checkpoint is step 40"));
    }
}
