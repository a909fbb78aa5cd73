package ebm.model;

/**
 * A named view into the flat parameter buffer: a row-major [rows x cols] block starting at {@code offset}.
 * Vectors have rows == 1 (a bias of width H is [1 x H]); scalars are [1 x 1].
 */
public record ParamView(String name, int offset, int rows, int cols, Role role) {

    /** What a tensor is, so that optimizers can route it (Muon, Shampoo) without knowing the model. */
    public enum Role {
        /** The first layer's weight matrix W_1 (Muon leaves it to its inner AdamW unless muon_first_layer). */
        FIRST_WEIGHT,
        /** A hidden weight matrix after the first (Muon's own territory); also the quadratic model's factor A. */
        HIDDEN_WEIGHT,
        /** A bias vector. */
        BIAS,
        /** The output weight vector w ([1 x H_L]). */
        OUTPUT_WEIGHT,
        /** The output bias c ([1 x 1]). */
        OUTPUT_BIAS,
        /** Any other vector (the quadratic model's mean). */
        VECTOR
    }

    public int size() {
        return rows * cols;
    }

    public boolean isMatrix() {
        return role == Role.FIRST_WEIGHT || role == Role.HIDDEN_WEIGHT;
    }

    public double get(double[] params, int r, int c) {
        return params[offset + r * cols + c];
    }
}
