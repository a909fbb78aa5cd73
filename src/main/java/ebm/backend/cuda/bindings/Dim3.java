package ebm.backend.cuda.bindings;

/** A grid or block shape, as cuLaunchKernel takes it. */
public record Dim3(int x, int y, int z) {
    public Dim3 {
        if (x < 1 || y < 1 || z < 1) throw new IllegalArgumentException("grid/block sizes must be >= 1: " + x + "x" + y + "x" + z);
    }

    public static Dim3 of(int x) {
        return new Dim3(x, 1, 1);
    }
}
