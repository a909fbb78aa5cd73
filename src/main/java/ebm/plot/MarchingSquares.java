package ebm.plot;

import java.util.ArrayList;
import java.util.List;

/** Iso-line segments of a scalar field on a regular grid (marching squares, no saddle disambiguation needed for plots). */
final class MarchingSquares {
    private MarchingSquares() {}

    /**
     * @param f      values on a rows x cols grid, f[i*cols + j] at x = x0 + j·dx, y = y0 + i·dy
     * @param window {x0, x1, y0, y1} the grid spans
     * @return segments {xa, ya, xb, yb}
     */
    static List<double[]> segments(double[] f, int rows, int cols, double level, double[] window) {
        double dx = (window[1] - window[0]) / (cols - 1), dy = (window[3] - window[2]) / (rows - 1);
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i + 1 < rows; i++) {
            for (int j = 0; j + 1 < cols; j++) {
                // corners counter-clockwise from bottom-left; edges 0 bottom, 1 right, 2 top, 3 left
                double[] v = {f[i * cols + j], f[i * cols + j + 1], f[(i + 1) * cols + j + 1], f[(i + 1) * cols + j]};
                double[][] cx = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
                List<double[]> crossings = new ArrayList<>(4);
                for (int e = 0; e < 4; e++) {
                    double a = v[e], b = v[(e + 1) % 4];
                    if ((a < level) != (b < level)) {
                        double t = (level - a) / (b - a);
                        double px = cx[e][0] + t * (cx[(e + 1) % 4][0] - cx[e][0]);
                        double py = cx[e][1] + t * (cx[(e + 1) % 4][1] - cx[e][1]);
                        crossings.add(new double[] {window[0] + (j + px) * dx, window[2] + (i + py) * dy});
                    }
                }
                for (int k = 0; k + 1 < crossings.size(); k += 2) {
                    double[] a = crossings.get(k), b = crossings.get(k + 1);
                    out.add(new double[] {a[0], a[1], b[0], b[1]});
                }
            }
        }
        return out;
    }
}
