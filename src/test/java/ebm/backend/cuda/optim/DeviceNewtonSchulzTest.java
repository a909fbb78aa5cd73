package ebm.backend.cuda.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.optim.Muon;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * DeviceNewtonSchulz through the host build against ebm.optim.Muon.newtonSchulz (fp64) on the same fp32 inputs:
 * wide, tall and square matrices, the GEMM FLOPs it counts against 2·s²·w + 2s³ + 2·s²·w per step, its
 * orthogonality error against the fp64 one, and the input left unchanged.
 */
class DeviceNewtonSchulzTest {

    @Test
    void matchesTheCpuIterationOnWideTallAndSquareMatrices() {
        SplittableRandom random = new SplittableRandom(TestSeeds.fixed("Newton-Schulz inputs", 41));
        int[][] shapes = {{6, 14}, {17, 5}, {12, 12}};
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            DeviceKernels kernels = new DeviceKernels(launcher);
            DeviceNewtonSchulz ns = new DeviceNewtonSchulz(launcher, kernels, blas, 144, 144);
            DeviceBuffer error = launcher.allocate(4, "error");
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1], steps = 5;
                float[] g = new float[rows * cols];
                for (int i = 0; i < g.length; i++) g[i] = (float) random.nextGaussian();
                double[] input = new double[g.length];
                for (int i = 0; i < g.length; i++) input[i] = g[i];
                DeviceBuffer source = launcher.upload(g);
                long out = ns.orthogonalise(source.address(), rows, cols, steps, error.address());
                launcher.synchronize();
                double[] want = Muon.newtonSchulz(input, rows, cols, steps);
                double[] got = launcher.readFloatsAsDoubles(new DeviceBuffer(out, 4L * g.length), g.length);
                double diff = 0, norm = 0;
                for (int i = 0; i < got.length; i++) {
                    diff += (got[i] - want[i]) * (got[i] - want[i]);
                    norm += want[i] * want[i];
                }
                double relative = Math.sqrt(diff / norm);
                int small = Math.min(rows, cols), wide = Math.max(rows, cols);
                long flops = steps * (4L * small * small * wide + 2L * small * small * small) + 2L * small * small * wide;
                double wantError = orthogonalityError(want, rows, cols);
                double gotError = Math.sqrt(launcher.readFloats(error, 1)[0] / small);
                System.out.printf("%dx%d: ‖Δ‖/‖ref‖ = %.2e, GEMM FLOPs %d (expected %d), orthogonality error %.6f vs %.6f%n",
                        rows, cols, relative, ns.flops(), flops, gotError, wantError);
                assertTrue(relative < 1e-5, "relative error " + relative);
                assertEquals(flops, ns.flops());
                assertEquals(wantError, gotError, 1e-5 + 1e-4 * wantError);
                assertArrayEquals(g, launcher.readFloats(source, g.length), "the input is left as it was");
                if (rows == cols) { // the bench's count: 3 GEMMs of 2n³ per step, 30n³ for 5 steps
                    ns.orthogonalise(source.address(), rows, cols, steps);
                    assertEquals(30L * rows * rows * rows, ns.flops());
                }
            }
            IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
                    () -> ns.orthogonalise(error.address(), 20, 20, 5));
            assertTrue(tooLarge.getMessage().contains("20x20"), tooLarge.getMessage());
        }
    }

    /** ‖XXᵀ − I‖_F/√s of the wide orientation, as ebm.optim.Muon measures it. */
    private static double orthogonalityError(double[] o, int rows, int cols) {
        boolean tall = rows > cols;
        int small = tall ? cols : rows, wide = tall ? rows : cols;
        double sum = 0;
        for (int i = 0; i < small; i++) {
            for (int j = 0; j < small; j++) {
                double dot = 0;
                for (int k = 0; k < wide; k++) {
                    dot += (tall ? o[k * cols + i] : o[i * cols + k]) * (tall ? o[k * cols + j] : o[j * cols + k]);
                }
                double d = dot - (i == j ? 1 : 0);
                sum += d * d;
            }
        }
        return Math.sqrt(sum / small);
    }
}
