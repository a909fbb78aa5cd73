package ebm.data;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Rows start .. start+rows-1 of row-major points, copied out: evaluations go through their points a chunk at a time
 * so that one tape (and its memory) covers only a chunk.
 */
public record PointChunk(int start, int rows, double[] points) {

    /** The chunks of at most {@code size} rows of points [n x d], in order; each is copied when it is reached. */
    public static Iterable<PointChunk> split(double[] points, int n, int d, int size) {
        return () -> new Iterator<>() {
            private int start = 0;

            @Override
            public boolean hasNext() {
                return start < n;
            }

            @Override
            public PointChunk next() {
                if (!hasNext()) throw new NoSuchElementException();
                int rows = Math.min(size, n - start);
                double[] chunk = new double[rows * d];
                System.arraycopy(points, start * d, chunk, 0, rows * d);
                PointChunk c = new PointChunk(start, rows, chunk);
                start += rows;
                return c;
            }
        };
    }
}
