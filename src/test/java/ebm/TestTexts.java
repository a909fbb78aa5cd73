package ebm;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions on generated text (reports, messages). */
public final class TestTexts {
    private TestTexts() {}

    /** Fails naming the first part the text lacks, and shows the text. */
    public static void assertContains(String text, String... parts) {
        for (String part : parts) assertTrue(text.contains(part), () -> "missing: " + part + "\nin:\n" + text);
    }
}
