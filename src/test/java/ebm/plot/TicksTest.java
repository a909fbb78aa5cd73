package ebm.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Tick positions and labels, computed from an axis range alone. */
class TicksTest {
    private static Ticks.Axis logged(Ticks.Axis a) {
        System.out.printf("[%s, %s]%s: labels %s, %d minor ticks%n", a.min(), a.max(), a.log() ? " log" : "", a.labels(), a.minorValues().size());
        return a;
    }

    /** XChart labelled only 0.1 and 1 here; the axis ends were unlabelled. */
    @Test
    void twoDecadesLabelOneTwoFiveAndKeepMinorTicks() {
        Ticks.Axis a = logged(Ticks.log(0.0203, 1.85));
        assertEquals(0.02, a.min(), 1e-15);
        assertEquals(2, a.max(), 1e-15);
        assertEquals(List.of("0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"), a.labels());
        assertTrue(a.minorValues().containsAll(List.of(0.03, 0.04, 0.06, 0.07, 0.08, 0.09, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9)), a.minorValues().toString());
    }

    @Test
    void manyDecadesLabelEveryDecade() {
        Ticks.Axis a = logged(Ticks.log(3e-6, 4.2));
        assertEquals(List.of("1e-5", "1e-4", "0.001", "0.01", "0.1", "1"), a.labels());
        assertEquals(3e-6, a.min(), 1e-20);
        assertEquals(5, a.max(), 1e-15);
        // every mark k·10^e in range is a tick: 3..9e-6, then 9 per decade, then 1..5
        assertEquals(7 + 9 * 5 + 5, a.ticks().size());
    }

    /** Less than a decade: XChart showed no label at all (0.2..0.9) or a single one. */
    @Test
    void lessThanADecadeLabelsValuesInsideIt() {
        assertEquals(List.of("0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"), logged(Ticks.log(0.21, 0.87)).labels());
        assertEquals(List.of("2", "3", "4", "5", "6", "7", "8"), logged(Ticks.log(2, 8)).labels());
        assertEquals(List.of("0.003", "0.004", "0.005", "0.006", "0.007", "0.008", "0.009", "0.01"),
                logged(Ticks.log(0.003, 0.01)).labels());
        // across a decade boundary: every mark while they are few, 1-2-5 once every mark would crowd the axis
        assertEquals(List.of("0.5", "0.6", "0.7", "0.8", "0.9", "1", "2"), logged(Ticks.log(0.5, 2)).labels());
        assertEquals(List.of("0.2", "0.5", "1", "2", "5"), logged(Ticks.log(0.2, 5)).labels());
        // narrower than a factor 3: the marks 1, 2, 3 would label almost nothing inside 1.62..2.38, linear steps do
        assertEquals(List.of("1.6", "1.8", "2", "2.2", "2.4"), logged(Ticks.log(1.62, 2.38)).labels());
        assertEquals(List.of("0.09", "0.095", "0.1", "0.105", "0.11"), logged(Ticks.log(0.1, 0.1)).labels()); // one value
        assertEquals(List.of("0.3", "0.4", "0.5", "0.6", "0.7", "0.8"), logged(Ticks.log(0.31, 0.8)).labels());
    }

    @Test
    void floatingPointNoiseDoesNotMoveTheEnds() {
        Ticks.Axis a = Ticks.log(0.1 + 0.2, 0.7 * 3);
        assertEquals(0.3, a.min(), 1e-15);
        assertEquals(3, a.max(), 1e-15);
        assertEquals(1e-3, Ticks.log(1e-3, 1).min(), 1e-18);
    }

    @Test
    void aVeryWideRangeLabelsEveryFewDecades() {
        Ticks.Axis a = logged(Ticks.log(1e-12, 1e12));
        assertTrue(a.labels().size() <= Ticks.MAX_LOG_DECADE_LABELS, a.labels().toString());
        assertTrue(a.labels().contains("1") && a.labels().contains("1e-12") && a.labels().contains("1e12"), a.labels().toString());
    }

    /** loss.png had x labels at 1, 90, 179, …: XChart labelled every k-th of the evenly spaced steps. */
    @Test
    void linearTicksAreRoundOneTwoFiveSteps() {
        Ticks.Axis steps = logged(Ticks.linear(1, 1500, 6));
        assertEquals(List.of("200", "400", "600", "800", "1000", "1200", "1400"), steps.labels());
        assertEquals(List.of("-4", "-3", "-2", "-1", "0"), logged(Ticks.linear(-4.8, 0.02, 5)).labels());
        assertEquals(List.of("0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.35", "0.4", "0.45", "0.5"),
                logged(Ticks.linear(0, 0.5, 10)).labels());
        assertEquals(List.of("-3", "-2", "-1", "0", "1", "2", "3"), logged(Ticks.linear(-3.9, 3.7, 8)).labels());
        // a single value still gets an axis around it
        assertEquals(List.of("4.6", "4.8", "5", "5.2", "5.4"), logged(Ticks.linear(5, 5, 5)).labels());
        for (double v : steps.majorValues()) assertEquals(0, v % 200, 1e-9);
    }
}
