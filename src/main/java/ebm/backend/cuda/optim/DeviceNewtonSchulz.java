package ebm.backend.cuda.optim;

import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.tape.DeviceTape;

/**
 * Muon's quintic Newton–Schulz orthogonalisation on the device, as {@code ebm.optim.Muon.newtonSchulz}: X = G/(‖G‖_F
 * + 1e-7) on the wide orientation (Gᵀ when G is tall, so the Gram matrices are the small side's), then per step
 * A = XXᵀ, P = cA² + bA, X ← aX + PX. The coefficients live in the GEMMs' α/β (P starts as a copy of A and gets
 * c·A·A + b·P; the next X starts as a copy of X and gets P·X + a·X), so a step is three GEMMs and two copies, and the
 * norm is a device-side dot product, so a captured graph needs no host round trip. The training step's Muon
 * ({@link DeviceOptimizer}) runs its matrices through this, and `ebm bench kernels` times it alone.
 *
 * <p>One instance owns its work buffers (X, its successor, A and P, sized for the largest matrix it will see); the
 * result of a call lives in one of them until the next call.
 */
public final class DeviceNewtonSchulz {
    public static final float NS_A = 3.4445f, NS_B = -4.7750f, NS_C = 2.0315f, NS_NORM_EPS = 1e-7f;

    private final DeviceKernels kernels;
    private final Blas blas;
    private final long capacity, gramCapacity;
    private final DeviceBuffer x, next, gram, poly, sumSquares, partials;
    private long flops;

    /** Work buffers for matrices of up to largestMatrix elements whose small side is at most √largestGram. */
    public DeviceNewtonSchulz(KernelLauncher launcher, DeviceKernels kernels, Blas blas, long largestMatrix, long largestGram) {
        this.kernels = kernels;
        this.blas = blas;
        this.capacity = Math.max(1, largestMatrix);
        this.gramCapacity = Math.max(1, largestGram);
        x = launcher.allocate(4L * capacity, "Newton-Schulz X");
        next = launcher.allocate(4L * capacity, "Newton-Schulz X");
        gram = launcher.allocate(4L * gramCapacity, "Newton-Schulz X X^T");
        poly = launcher.allocate(4L * gramCapacity, "Newton-Schulz polynomial");
        sumSquares = launcher.allocate(4, "Newton-Schulz norm");
        partials = launcher.allocate(4L * DeviceKernels.DOT_PARTIALS, "reduction partials");
    }

    /**
     * Queues NewtonSchulz of the row-major fp32 [rows x cols] matrix at source (left unchanged) with `steps` quintic
     * steps; returns the device address of the [rows x cols] result, valid until the next call.
     */
    public long orthogonalise(long source, int rows, int cols, int steps) {
        return orthogonalise(source, rows, cols, steps, 0);
    }

    /** As {@link #orthogonalise(long, int, int, int)}; errorInto ≠ 0 also gets ‖XXᵀ − I‖_F² of the wide result (a float). */
    long orthogonalise(long source, int rows, int cols, int steps, long errorInto) {
        long n = (long) rows * cols;
        boolean tall = rows > cols;
        int small = tall ? cols : rows, wide = tall ? rows : cols;
        if (rows < 1 || cols < 1 || steps < 0 || n > capacity || (long) small * small > gramCapacity) {
            throw new IllegalArgumentException("Newton-Schulz of a " + rows + "x" + cols + " matrix with " + steps
                    + " steps does not fit buffers of " + capacity + " elements and a Gram matrix of " + gramCapacity);
        }
        flops = 0;
        kernels.dot(source, source, n, partials.address(), sumSquares.address());
        long from = source;
        if (tall) { // the wide orientation: X = Gᵀ
            kernels.transposeF32(Grid.over(n), source, rows, cols, 0, next.address());
            from = next.address();
        }
        kernels.normalizeF32(Grid.over(n), from, n, sumSquares.address(), NS_NORM_EPS, x.address());
        long current = x.address(), other = next.address();
        long gramSize = (long) small * small;
        for (int s = 0; s < steps; s++) {
            gemm(false, true, small, small, wide, 1f, current, wide, current, wide, 0f, gram.address(), small);
            kernels.copy(gram.address(), poly.address(), gramSize);
            gemm(false, false, small, small, small, NS_C, gram.address(), small, gram.address(), small, NS_B, poly.address(), small);
            kernels.copy(current, other, n);
            gemm(false, false, small, wide, small, 1f, poly.address(), small, current, wide, NS_A, other, wide);
            long swap = current;
            current = other;
            other = swap;
        }
        if (errorInto != 0) orthogonalityError(current, small, wide, errorInto);
        if (!tall) return current;
        kernels.transposeF32(Grid.over(n), current, small, wide, 0, other); // back to [rows x cols] in the spare buffer
        return other;
    }

    /** GEMM floating-point operations (2mnk each) the last call queued: 2·s²·w + 2s³ + 2·s²·w per step, plus the error's. */
    public long flops() {
        return flops;
    }

    /** into = ‖XXᵀ − I‖_F² of the wide X ([small x wide]); A and P are free by now. */
    private void orthogonalityError(long wideX, int small, int wide, long into) {
        long gramSize = (long) small * small;
        gemm(false, true, small, small, wide, 1f, wideX, wide, wideX, wide, 0f, gram.address(), small);
        kernels.setIdentityF32(Grid.over(gramSize), poly.address(), small, 1f);
        kernels.combineF32(Grid.over(gramSize), gram.address(), poly.address(), gramSize, 1f, -1f, 0, poly.address());
        kernels.dot(poly.address(), poly.address(), gramSize, partials.address(), into);
    }

    private void gemm(boolean transA, boolean transB, int n, int m, int k, float alpha, long a, int lda, long b, int ldb,
                      float beta, long c, int ldc) {
        DeviceTape.rowMajorGemm(blas, transA, transB, n, m, k, alpha, a, lda, b, ldb, beta, c, ldc);
        flops += 2L * n * m * k;
    }
}
