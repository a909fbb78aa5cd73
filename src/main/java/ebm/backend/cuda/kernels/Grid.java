package ebm.backend.cuda.kernels;

/**
 * The launch geometry of one kernel launch: blocks, threads per block and dynamic shared memory. Every typed kernel
 * entry takes one as its first parameter, built by a factory that names what its number means, so an element count
 * can never be taken for a block count (an int meant as work once launched 256× too many threads).
 */
public record Grid(int blocks, int threads, int sharedBytes) {
    /** Threads per block of every grid-stride kernel (and of the tree reductions, which need a power of two). */
    public static final int THREADS = 256;
    /** Enough blocks to fill an H100 (132 SMs × 16 blocks of 256); grid-stride loops cover any larger n. */
    public static final int MAX_BLOCKS = 2048;

    public Grid {
        if (blocks < 1 || threads < 1 || threads > 1024 || sharedBytes < 0) {
            throw new IllegalArgumentException("bad launch geometry: " + blocks + " blocks of " + threads
                    + " threads, " + sharedBytes + " bytes of shared memory");
        }
    }

    /** A grid-stride launch over `work` elements: a thread each, in at most {@link #MAX_BLOCKS} blocks of {@link #THREADS}. */
    public static Grid over(long work) {
        return new Grid(blocksFor(work), THREADS, 0);
    }

    /** Exactly `blocks` blocks of {@link #THREADS} threads (block-per-row and block-per-sample kernels, reductions). */
    public static Grid blocks(int blocks) {
        return new Grid(blocks, THREADS, 0);
    }

    public static Grid of(int blocks, int threads, int sharedBytes) {
        return new Grid(blocks, threads, sharedBytes);
    }

    /** The block count of {@link #over}: ⌈work / THREADS⌉ within [1, MAX_BLOCKS]. */
    public static int blocksFor(long work) {
        return (int) Math.max(1, Math.min(MAX_BLOCKS, (work + THREADS - 1) / THREADS));
    }
}
