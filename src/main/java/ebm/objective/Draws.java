package ebm.objective;

import ebm.tape.Tensor;

/**
 * One step's random inputs on a backend, keyed by (the objective's seed, the step): the same Philox draws on every
 * backend, so a step sees the same probes and noise on the CPU and on the device, and again after a resume.
 */
public interface Draws<T extends Tensor> {
    /** rows x cols probe values of the PROBES stream, element e being draw e (E[vvᵀ] = I per row). */
    T probes(ProbeDistribution distribution, int rows, int cols);

    /** x̃ = x + σε and the target ε/σ, with ε the NOISE stream's Gaussians (element e of x takes draw e). */
    Noised<T> denoising(T x, double sigma);

    /**
     * Per sample b a level σ_b drawn uniformly from sigmas (the NOISE_LEVEL stream, draw b), x̃ = x + σ_b ε and the
     * target ε itself (the annealed objective's weight σ² on the energy E/σ).
     */
    Noised<T> annealedDenoising(T x, double[] sigmas);

    record Noised<T>(T noisy, T target) {}
}
