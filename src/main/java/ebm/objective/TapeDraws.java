package ebm.objective;

import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.tape.Node;
import ebm.tape.Tape;

/** {@link Draws} on the CPU tape, in fp64 on the host. */
public record TapeDraws(Tape tape, long seed, long step) implements Draws<Node> {

    @Override
    public Node probes(ProbeDistribution distribution, int rows, int cols) {
        return tape.constant(distribution.draw(seed, step, Streams.PROBES, rows * cols), rows, cols);
    }

    @Override
    public Noised<Node> denoising(Node x, double sigma) {
        double[] eps = ProbeDistribution.GAUSSIAN.draw(seed, step, Streams.NOISE, x.size());
        double[] noisy = new double[eps.length];
        double[] target = new double[eps.length];
        for (int i = 0; i < noisy.length; i++) {
            noisy[i] = x.value[i] + sigma * eps[i];
            target[i] = eps[i] / sigma;
        }
        return new Noised<>(tape.constant(noisy, x.rows, x.cols), tape.constant(target, x.rows, x.cols));
    }

    @Override
    public Noised<Node> annealedDenoising(Node x, double[] sigmas) {
        int batch = x.rows, d = x.cols;
        double[] eps = ProbeDistribution.GAUSSIAN.draw(seed, step, Streams.NOISE, batch * d);
        RandomStream levelRng = new RandomStream(seed, step, Streams.NOISE_LEVEL);
        double[] noisy = new double[batch * d];
        for (int b = 0; b < batch; b++) {
            double sigma = sigmas[levelRng.below(b, sigmas.length)];
            for (int j = 0; j < d; j++) noisy[b * d + j] = x.value[b * d + j] + sigma * eps[b * d + j];
        }
        return new Noised<>(tape.constant(noisy, batch, d), tape.constant(eps, batch, d));
    }
}
