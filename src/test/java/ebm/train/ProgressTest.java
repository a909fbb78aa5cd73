package ebm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ebm.TestTexts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The progress line's rate and ETA come from a window of recent steps, timed here by a fake clock. */
class ProgressTest {
    /** A clock the test moves by hand. */
    private static final class FakeClock implements java.util.function.LongSupplier {
        long nanos = 7_000_000_000L; // any origin

        @Override
        public long getAsLong() {
            return nanos;
        }

        void advanceMillis(long ms) {
            nanos += ms * 1_000_000L;
        }
    }

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

    /** Steps from..to, each taking millis on the clock. */
    private static void steps(Progress p, FakeClock clock, long from, long to, long millis) {
        for (long step = from; step <= to; step++) {
            clock.advanceMillis(millis);
            p.update(step, 0.5, null);
        }
    }

    @Test
    void aSlowWarmUpIsForgottenOnceFiftyFastStepsFollow() {
        FakeClock clock = new FakeClock();
        Progress p = new Progress(out, 1110, clock, false);
        steps(p, clock, 1, 10, 1000); // warm-up: 1 s a step
        System.out.println("after the warm-up: " + p.stepsPerSecond() + " steps/s, expected 1");
        assertEquals(1.0, p.stepsPerSecond(), 1e-12);
        steps(p, clock, 11, 110, 10); // then 10 ms a step
        // the average since the start would be 110 steps / 11 s = 10 steps/s and an ETA of 100 s
        System.out.println("after 100 fast steps: " + p.stepsPerSecond() + " steps/s, expected 100; " + p.line(110, 0.5));
        assertEquals(100.0, p.stepsPerSecond(), 1e-9);
        TestTexts.assertContains(p.line(110, 0.5), "100.0 steps/s", "ETA 10s");
    }

    @Test
    void theWindowSpansAtMostTenSecondsButAlwaysTheLatestStep() {
        FakeClock clock = new FakeClock();
        Progress p = new Progress(out, 100, clock, false);
        for (long step = 1; step <= 5; step++) { // 20 s a step: only the latest step is within 10 s
            clock.advanceMillis(20_000);
            p.update(step, 0.5, null);
            assertEquals(0.05, p.stepsPerSecond(), 1e-12, "step " + step);
        }
        steps(p, clock, 6, 8, 1000); // then 1 s a step: the marks of steps 5..8 are within 10 s
        System.out.println("steps of 20 s then 3 of 1 s: " + p.stepsPerSecond() + " steps/s, expected 1 (since start: 8/103)");
        assertEquals(1.0, p.stepsPerSecond(), 1e-12);
        TestTexts.assertContains(p.line(8, 0.5), "1.0 steps/s", "ETA 1m32s");
    }

    @Test
    void aResumedRunsFirstStepIsTimedFromTheStartOfThisProcess() {
        FakeClock clock = new FakeClock();
        Progress p = new Progress(out, 2000, clock, false);
        clock.advanceMillis(250);
        p.update(1001, 0.5, null); // resumed at step 1000: one step in 0.25 s, not 1001
        System.out.println("first resumed step: " + p.stepsPerSecond() + " steps/s, expected 4");
        assertEquals(4.0, p.stepsPerSecond(), 1e-12);
    }

    @Test
    void theLineShowsStepLossLatestHeldOutLossRateAndEta() {
        FakeClock clock = new FakeClock();
        Progress p = new Progress(out, 200, clock, false);
        for (long step = 1; step <= 20; step++) {
            clock.advanceMillis(20);
            p.update(step, -0.123456, step == 10 ? Map.of("val_loss", 0.0421) : null);
        }
        String console = printed.toString(StandardCharsets.UTF_8);
        System.out.print(console);
        String last = console.strip().lines().reduce((a, b) -> b).orElseThrow();
        assertEquals("step 20/200  loss -0.12346  val_loss 0.042100  50.0 steps/s  ETA 4s", last);
        TestTexts.assertContains(console, "step 10/200  loss -0.12346  val_loss 0.042100  fisher n/a"); // the eval line
        // before any evaluation the held-out loss is n/a
        Progress fresh = new Progress(out, 200, clock, false);
        clock.advanceMillis(100);
        fresh.update(1, 1.5, null);
        assertEquals("step 1/200  loss +1.5000  val_loss n/a  10.0 steps/s  ETA 20s", fresh.line(1, 1.5));
    }
}
