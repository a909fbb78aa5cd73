package ebm.rng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.TestSeeds;
import org.junit.jupiter.api.Test;

/** The one seed mechanism of the randomised checks: -Debm.seed, else EBM_SEED, else fresh from the clock. */
class CheckSeedTest {
    @Test
    void thePropertyWinsOverTheEnvironmentWhichWinsOverTheClock() {
        assertEquals(new CheckSeed(12345, "-Debm.seed"), CheckSeed.resolve("12345", "678"));
        assertEquals(new CheckSeed(-678, "EBM_SEED"), CheckSeed.resolve(null, " -678 "));
        assertEquals(new CheckSeed(678, "EBM_SEED"), CheckSeed.resolve("", "678"));
        CheckSeed fresh = CheckSeed.resolve(null, null);
        assertEquals("fresh from the clock", fresh.source());
        assertTrue(fresh.toString().startsWith("seed=" + fresh.value() + " ("), fresh.toString());
    }

    @Test
    void aValueThatIsNotASeedIsAnErrorNamingWhereItCameFrom() {
        EbmException e = assertThrows(EbmException.class, () -> CheckSeed.resolve("0x1f", null));
        assertTrue(e.getMessage().contains("-Debm.seed") && e.getMessage().contains("0x1f"), e.getMessage());
        e = assertThrows(EbmException.class, () -> CheckSeed.resolve(null, "twelve"));
        assertTrue(e.getMessage().contains("EBM_SEED") && e.getMessage().contains("twelve"), e.getMessage());
    }

    /** What this JVM was given (surefire passes -Debm.seed and EBM_SEED through to it): printed, and used as given. */
    @Test
    void theTestHelperReturnsTheResolvedSeed() {
        String given = System.getProperty(CheckSeed.PROPERTY);
        long seed = TestSeeds.seed("CheckSeedTest");
        if (given != null && !given.isBlank()) assertEquals(Long.parseLong(given.strip()), seed);
        assertEquals(7, TestSeeds.fixed("a fixed seed", 7));
    }
}
