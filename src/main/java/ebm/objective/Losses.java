package ebm.objective;

import ebm.backend.cpu.CpuThreads;
import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.tape.Node;
import ebm.tape.Tape;

/**
 * The batch mean of a per-sample loss and its parameter gradient, computed over fixed chunks of the batch that
 * run in parallel (both cores on small models, where single products are too small to split) and are reduced in
 * chunk order. The chunking depends only on the batch size, never on the thread count, so results are bitwise
 * the same on any number of threads.
 */
final class Losses {
    /** Rows per chunk at least this, so each chunk's products stay efficient. */
    static final int MIN_CHUNK_ROWS = 128;
    /** At most this many chunks, bounding the per-chunk gradient buffers. */
    static final int MAX_CHUNKS = 16;

    private Losses() {}

    /** The per-sample losses ([rows x 1]) of batch rows [from, to), built on the given tape. */
    interface PerSample {
        Node losses(Tape tape, BoundEnergy energy, int from, int to);
    }

    /** Rows per chunk for this batch: at least two chunks whenever the batch has two samples. */
    private static int chunkRows(int batch) {
        return Math.min(Math.max(MIN_CHUNK_ROWS, (batch + MAX_CHUNKS - 1) / MAX_CHUNKS), Math.max(1, (batch + 1) / 2));
    }

    /** Rows of the first half of the half-batch noise estimate: the first chunks/2 chunks. */
    static int firstHalfRows(int batch) {
        int rows = chunkRows(batch), chunks = (batch + rows - 1) / rows;
        return Math.min(batch, chunks / 2 * rows);
    }

    static Objective.Result mean(EnergyModel model, double[] params, int batch, double[] grad, PerSample perSample) {
        // at least two chunks whenever the batch has two samples, so the half-batch noise estimate always exists
        int rows = chunkRows(batch);
        int chunks = (batch + rows - 1) / rows;
        double[] sums = new double[chunks];
        double[][] grads = new double[chunks][];
        CpuThreads.forEachChunk(chunks, c -> {
            int from = c * rows, to = Math.min(batch, from + rows);
            Tape tape = new Tape();
            BoundEnergy energy = model.bind(tape, params, grad != null);
            Node sum = tape.sum(perSample.losses(tape, energy, from, to));
            sums[c] = sum.scalar();
            if (grad != null) {
                tape.backward(sum);
                grads[c] = new double[grad.length];
                energy.collectGrad(grads[c]);
            }
        });
        double total = 0;
        for (double s : sums) total += s;
        if (grad == null) return new Objective.Result(total / batch, null);
        int half = chunks / 2;
        int rowsA = firstHalfRows(batch), rowsB = batch - rowsA;
        double[] sumA = new double[grad.length];
        java.util.Arrays.fill(grad, 0.0);
        for (int c = 0; c < chunks; c++) {
            double[] g = grads[c];
            for (int i = 0; i < g.length; i++) grad[i] += g[i];
            if (c == half - 1) System.arraycopy(grad, 0, sumA, 0, grad.length);
        }
        Double noise = null;
        if (rowsA > 0 && rowsB > 0) {
            double diff = 0, norm = 0;
            for (int i = 0; i < grad.length; i++) {
                double a = sumA[i] / rowsA, b = (grad[i] - sumA[i]) / rowsB, g = grad[i] / batch;
                diff += (a - b) * (a - b);
                norm += g * g;
            }
            double traceSigma = diff / (1.0 / rowsA + 1.0 / rowsB);
            noise = norm > 0 ? Math.sqrt(traceSigma / batch / norm) : null;
        }
        for (int i = 0; i < grad.length; i++) grad[i] /= batch;
        return new Objective.Result(total / batch, noise);
    }

    /** Rows [from, to) of a row-major array with `width` columns. */
    static double[] rows(double[] values, int width, int from, int to) {
        return java.util.Arrays.copyOfRange(values, from * width, to * width);
    }
}
