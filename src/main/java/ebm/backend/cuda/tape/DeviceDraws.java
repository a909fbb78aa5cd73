package ebm.backend.cuda.tape;

import ebm.backend.cuda.kernels.DeviceKernels;
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
                kernels.launch("ebm_denoising_inputs_f32", count, a -> a.i64(x.address()).i64(target.address()).i64(count)
                        .f32(s).i64(noisy.address()).i64(target.address()));
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
                kernels.launch("ebm_annealed_denoising_inputs_f32", count, k -> k.i64(x.address()).i64(eps.address())
                        .i64(batch).i64(dim).pointer(table).i32(sigmas.length).i32(Streams.NOISE_LEVEL).i64(philoxKey)
                        .i64(noisy.address()));
                return new Noised<>(noisy, eps);
            }
        };
    }

    private void gaussianOrRademacher(ProbeDistribution distribution, int stream, DeviceNode out) {
        String kernel = switch (distribution) {
            case GAUSSIAN -> "ebm_probes_gaussian_f32";
            case RADEMACHER -> "ebm_probes_rademacher_f32";
        };
        long count = out.size();
        kernels.launch(kernel, (count + 3) / 4, a -> a.i64(out.address()).i64(count).i64(0).i32(stream).i64(philoxKey));
    }
}
