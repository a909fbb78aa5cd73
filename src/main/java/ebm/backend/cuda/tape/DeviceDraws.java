package ebm.backend.cuda.tape;

import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.objective.Draws;
import ebm.objective.ProbeDistribution;
import ebm.rng.Streams;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * {@link Draws} on the device: kernels/probes.cu and denoising.cu fill tape memory with the CPU's Philox draws, keyed
 * by the (seed, step) the kernels read from device memory, so a captured step draws afresh on every replay.
 */
public final class DeviceDraws {
    private final KernelLauncher launcher;
    private final DeviceKernels kernels;
    private final long philoxKey;
    /** Annealed denoising's noise levels (fp32), uploaded on the first (eager) step and kept. */
    private final Map<double[], DeviceBuffer> levels = new IdentityHashMap<>();

    /** @param philoxKey device address of the key {seed, step} (two 64-bit words) */
    public DeviceDraws(KernelLauncher launcher, DeviceKernels kernels, long philoxKey) {
        this.launcher = launcher;
        this.kernels = kernels;
        this.philoxKey = philoxKey;
    }

    /** The draws of the current step, in memory from this tape's arena. */
    public Draws<DeviceNode> on(DeviceTape tape) {
        return new Draws<>() {
            @Override
            public DeviceNode probes(ProbeDistribution distribution, int rows, int cols) {
                DeviceNode out = tape.uninitialized(rows, cols, "probes");
                gaussianOrRademacher(distribution, Streams.PROBES, out);
                return out;
            }

            @Override
            public Noised<DeviceNode> denoising(DeviceNode x, double sigma) {
                DeviceNode noisy = tape.uninitialized(x.rows(), x.cols(), "noised batch");
                DeviceNode target = tape.uninitialized(x.rows(), x.cols(), "denoising target");
                gaussianOrRademacher(ProbeDistribution.GAUSSIAN, Streams.NOISE, target);
                // ε sits in target until the kernel turns it into x̃ (noisy) and ε/σ (target) in place
                long count = x.size();
                float s = (float) sigma;
                kernels.denoisingInputsF32(Grid.over(count), x.address(), target.address(), count, s, noisy.address(),
                        target.address());
                return new Noised<>(noisy, target);
            }

            @Override
            public Noised<DeviceNode> annealedDenoising(DeviceNode x, double[] sigmas) {
                DeviceNode noisy = tape.uninitialized(x.rows(), x.cols(), "noised batch");
                DeviceNode eps = tape.uninitialized(x.rows(), x.cols(), "denoising noise");
                gaussianOrRademacher(ProbeDistribution.GAUSSIAN, Streams.NOISE, eps);
                DeviceBuffer table = levels.computeIfAbsent(sigmas, s -> {
                    DeviceBuffer b = launcher.allocate(4L * s.length, "noise levels");
                    launcher.writeAsFloats(b, s);
                    return b;
                });
                long batch = x.rows(), dim = x.cols(), count = x.size();
                kernels.annealedDenoisingInputsF32(Grid.over(count), x.address(), eps.address(), batch, dim,
                        table.address(), sigmas.length, Streams.NOISE_LEVEL, philoxKey, noisy.address());
                return new Noised<>(noisy, eps);
            }
        };
    }

    private void gaussianOrRademacher(ProbeDistribution distribution, int stream, DeviceNode out) {
        long count = out.size();
        Grid grid = Grid.over((count + 3) / 4); // a thread per Philox block of four
        switch (distribution) {
            case GAUSSIAN -> kernels.probesGaussianF32(grid, out.address(), count, 0, stream, philoxKey);
            case RADEMACHER -> kernels.probesRademacherF32(grid, out.address(), count, 0, stream, philoxKey);
        }
    }
}
