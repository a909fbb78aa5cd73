package ebm.rng;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PhiloxTest {

    /** Known-answer vectors of Philox4x32-10 published with the Random123 library (kat_vectors). */
    @Test
    void matchesPublishedKnownAnswers() {
        int[][][] kat = {
            {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
            {{-1, -1, -1, -1}, {-1, -1}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
            {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
             {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
        };
        int[] out = new int[4];
        for (int[][] v : kat) {
            Philox.block(v[0][0], v[0][1], v[0][2], v[0][3], v[1][0], v[1][1], out);
            System.out.printf("philox ctr=%08x.. key=%08x..: got %08x %08x %08x %08x, want %08x %08x %08x %08x%n",
                    v[0][0], v[1][0], out[0], out[1], out[2], out[3], v[2][0], v[2][1], v[2][2], v[2][3]);
            assertArrayEquals(v[2], out);
        }
    }

    @Test
    void streamWordsFollowTheDocumentedCounterLayout() {
        long seed = 0x123456789abcdefL;
        RandomStream s = new RandomStream(seed, 7L | (3L << 32), 5);
        int[] out = new int[4];
        Philox.block(2, 5, 7, 3, (int) seed, (int) (seed >>> 32), out);
        for (int w = 0; w < 4; w++) assertEquals(out[w], s.word(8 + w));
        double r = Math.sqrt(-2 * Math.log(RandomStream.toUniform(out[2])));
        double t = 2 * Math.PI * RandomStream.toUniform(out[3]);
        assertEquals(r * Math.sin(t), s.gaussian(11), 0.0);
        assertNotEquals(new RandomStream(seed, 8, 5).word(8), s.word(8));
        assertNotEquals(new RandomStream(seed, 7L | (3L << 32), 6).word(8), s.word(8));
    }

    @Test
    void gaussiansAndSignsHaveTheRightMoments() {
        RandomStream s = new RandomStream(42, 0, Streams.PROBES);
        int n = 1 << 20;
        double sum = 0, sumSq = 0, sum4 = 0, signs = 0;
        for (int i = 0; i < n; i++) {
            double g = s.gaussian(i);
            sum += g;
            sumSq += g * g;
            sum4 += g * g * g * g;
            signs += s.rademacher(i);
        }
        double mean = sum / n, var = sumSq / n - mean * mean, kurt = sum4 / n;
        System.out.printf("gaussian mean %.5f var %.5f E[g^4] %.4f, rademacher mean %.5f over %d draws%n",
                mean, var, kurt, signs / n, n);
        // 6 standard errors: mean se = 1/sqrt(n) ~ 1e-3, var se = sqrt(2/n) ~ 1.4e-3, E g^4 se = sqrt(96/n) ~ 1e-2.
        assertTrue(Math.abs(mean) < 6e-3);
        assertTrue(Math.abs(var - 1) < 9e-3);
        assertTrue(Math.abs(kurt - 3) < 6e-2);
        assertTrue(Math.abs(signs / n) < 6e-3);
    }

    @Test
    void belowStaysInRangeAndCoversIt() {
        RandomStream s = new RandomStream(1, 2, Streams.BATCH);
        int[] counts = new int[7];
        for (int i = 0; i < 70000; i++) counts[s.below(i, 7)]++;
        for (int c : counts) assertTrue(Math.abs(c - 10000) < 600, "bucket count " + c);
    }

    @Test
    void bulkGaussiansEqualElementwiseOnesAtAnyOffset() {
        RandomStream s = new RandomStream(5, 6, Streams.NOISE);
        double[] out = new double[23];
        for (long first : new long[] {0, 1, 2, 3, 9}) {
            s.fillGaussian(out, 1, 21, first);
            for (int e = 0; e < 21; e++) assertEquals(s.gaussian(first + e), out[1 + e], 0.0);
        }
    }
}
