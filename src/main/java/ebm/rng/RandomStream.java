package ebm.rng;

/**
 * One reproducible stream of random numbers, keyed by (seed, step, stream). Word i of the stream is word (i mod 4)
 * of Philox4x32-10 with key (seed low 32 bits, seed high 32 bits) and counter (i / 4, stream, step low 32 bits,
 * step high 32 bits). Every transform below reads fixed words, so any backend reproduces it element by element:
 * <ul>
 *   <li>uniform(i) = (word_i + 0.5) * 2^-32, in (0, 1) exclusive of both ends;</li>
 *   <li>rademacher(i) = +1 when the top bit of word_i is 0, else -1;</li>
 *   <li>gaussian: block j's words (w0, w1, w2, w3) give elements 4j..4j+3 by Box-Muller,
 *       r = sqrt(-2 ln uniform(w0)), t = 2 pi uniform(w1): (r cos t, r sin t), then the same from (w2, w3);</li>
 *   <li>below(i, n) = floor(word_i * n / 2^32) (multiply-shift; its bias is below n / 2^32).</li>
 * </ul>
 * Streams used by the engine are listed in {@link Streams}.
 */
public final class RandomStream {
    private static final double TWO_POW_M32 = 1.0 / 4294967296.0;

    private final int k0;
    private final int k1;
    private final int stream;
    private final int stepLo;
    private final int stepHi;
    private final int[] block = new int[4];
    private long cachedBlock = -1;

    public RandomStream(long seed, long step, int stream) {
        this.k0 = (int) seed;
        this.k1 = (int) (seed >>> 32);
        this.stream = stream;
        this.stepLo = (int) step;
        this.stepHi = (int) (step >>> 32);
    }

    private int[] block(long j) {
        if (j < 0 || j > 0xFFFFFFFFL) throw new IllegalArgumentException("stream block index out of range: " + j);
        if (j != cachedBlock) {
            Philox.block((int) j, stream, stepLo, stepHi, k0, k1, block);
            cachedBlock = j;
        }
        return block;
    }

    /** The raw uint32 word i (as a Java int holding the same 32 bits). */
    public int word(long i) {
        return block(i >>> 2)[(int) (i & 3)];
    }

    public static double toUniform(int word) {
        return ((word & 0xFFFFFFFFL) + 0.5) * TWO_POW_M32;
    }

    public double uniform(long i) {
        return toUniform(word(i));
    }

    public double rademacher(long i) {
        return word(i) >= 0 ? 1.0 : -1.0;
    }

    public int below(long i, int n) {
        return (int) (((word(i) & 0xFFFFFFFFL) * n) >>> 32);
    }

    public double gaussian(long i) {
        int[] w = block(i >>> 2);
        int pair = (int) (i & 3) >> 1;
        double r = Math.sqrt(-2.0 * Math.log(toUniform(w[2 * pair])));
        double t = 2.0 * Math.PI * toUniform(w[2 * pair + 1]);
        return (i & 1) == 0 ? r * Math.cos(t) : r * Math.sin(t);
    }

    /** out[off + e] = gaussian(first + e) for e in [0, n); whole blocks share each Box-Muller pair's log and sqrt. */
    public void fillGaussian(double[] out, int off, int n, long first) {
        int e = 0;
        while (e < n && ((first + e) & 3) != 0) {
            out[off + e] = gaussian(first + e);
            e++;
        }
        for (; e + 4 <= n; e += 4) {
            int[] w = block((first + e) >>> 2);
            for (int pair = 0; pair < 2; pair++) {
                double r = Math.sqrt(-2.0 * Math.log(toUniform(w[2 * pair])));
                double t = 2.0 * Math.PI * toUniform(w[2 * pair + 1]);
                out[off + e + 2 * pair] = r * Math.cos(t);
                out[off + e + 2 * pair + 1] = r * Math.sin(t);
            }
        }
        for (; e < n; e++) out[off + e] = gaussian(first + e);
    }

    /** out[off + e] = rademacher(first + e) for e in [0, n). */
    public void fillRademacher(double[] out, int off, int n, long first) {
        for (int e = 0; e < n; e++) out[off + e] = rademacher(first + e);
    }
}
