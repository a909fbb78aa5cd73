package ebm.bench;

import ebm.EbmException;
import ebm.linalg.Gemm;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.model.TraceAlgorithm;
import ebm.objective.DenoisingObjective;
import ebm.objective.ExactObjective;
import ebm.objective.HutchinsonObjective;
import ebm.objective.Objective;
import ebm.objective.ProbeDistribution;
import ebm.optim.AdamWOptions;
import ebm.optim.Optimizer;
import ebm.optim.Optimizers;
import ebm.rng.RandomStream;
import ebm.tape.Activation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * CPU training-step benchmark: one step = loss + parameter gradient + AdamW on a softplus MLP, fp64, batch B.
 * Each row is validated before it is timed (the two exact algorithms must agree on the loss; every loss and
 * gradient must be finite). FLOPs are the dense-product FLOPs the step issues (2mnk per product, counted by the
 * matrix-multiply routine); the elementwise work is on top. The machine's practical limit is the same routine's
 * rate on a large square product, measured in the same run.
 */
public final class StepBench {
    public record Shape(int dim, int hidden, int layers) {
        public static Shape parse(String s) {
            String[] p = s.split("x");
            if (p.length != 3) throw new EbmException("--shapes entries are DxHxL (e.g. 64x256x3), got '" + s + "'");
            return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
        }

        @Override
        public String toString() {
            return "D=" + dim + " H=" + hidden + "x" + layers;
        }
    }

    public record Row(String method, Shape shape, int batch, double msPerStep, int reps, double gflopPerStep) {
        public double gflops() {
            return gflopPerStep / (msPerStep / 1000);
        }
    }

    public static final List<String> METHODS = List.of("exact-per-dimension", "exact-row-space", "hutchinson-1", "denoising");
    public static final List<Shape> SHAPES = List.of(new Shape(2, 128, 3), new Shape(64, 256, 3), new Shape(512, 128, 3));

    private StepBench() {}

    static Objective objective(String method) {
        return switch (method) {
            case "exact-per-dimension" -> new ExactObjective(TraceAlgorithm.PER_DIMENSION);
            case "exact-row-space" -> new ExactObjective(TraceAlgorithm.ROW_SPACE);
            case "hutchinson-1" -> new HutchinsonObjective(1, ProbeDistribution.GAUSSIAN, 1);
            case "denoising" -> new DenoisingObjective(0.1, 1);
            default -> throw new EbmException("unknown method '" + method + "'; allowed: " + String.join(", ", METHODS));
        };
    }

    /** GFLOP/s of the matrix-multiply routine on an n x n x n product: the practical limit of this machine. */
    public static double gemmRate(int n) {
        double[] a = new double[n * n], b = new double[n * n], c = new double[n * n];
        new RandomStream(1, 0, 0).fillGaussian(a, 0, a.length, 0);
        new RandomStream(2, 0, 0).fillGaussian(b, 0, b.length, 0);
        double best = 0;
        for (int r = 0; r < 5; r++) {
            long t0 = System.nanoTime();
            Gemm.gemm(false, false, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n);
            best = Math.max(best, 2.0 * n * n * n / ((System.nanoTime() - t0) * 1e-9) / 1e9);
        }
        return best;
    }

    public static Row run(String method, Shape shape, int batch, double budgetSeconds) {
        int[] hidden = new int[shape.layers()];
        Arrays.fill(hidden, shape.hidden());
        Mlp mlp = new Mlp(new MlpSpec(shape.dim(), hidden, Activation.SOFTPLUS));
        double[] params = mlp.initialParams(1);
        double[] x = new double[batch * shape.dim()];
        new RandomStream(3, 0, 0).fillGaussian(x, 0, x.length, 0);
        Objective objective = objective(method);
        Optimizer adam = Optimizers.adamw(new AdamWOptions(1e-3, 0.9, 0.999, 1e-8, 0), mlp.layout());
        double[] grad = new double[params.length];
        // validate before timing
        double loss = objective.evaluate(mlp, params, x, batch, 1, grad);
        for (double g : grad) if (!Double.isFinite(g)) throw new IllegalStateException(method + ": non-finite gradient");
        if (method.startsWith("exact")) {
            String other = method.equals("exact-row-space") ? "exact-per-dimension" : "exact-row-space";
            double check = objective(other).evaluate(mlp, params, x, batch, 1, null);
            if (Math.abs(check - loss) > 1e-10 * Math.max(1, Math.abs(loss))) {
                throw new IllegalStateException(method + " loss " + loss + " disagrees with " + other + " " + check);
            }
        }
        long flopsBefore = Gemm.flops();
        objective.evaluate(mlp, params, x, batch, 2, grad);
        adam.step(params, grad, 1.0);
        double gflop = (Gemm.flops() - flopsBefore) / 1e9;
        // warm-up: the JIT compiles the vector kernels over the first second or so
        long step = 3;
        for (long warmEnd = System.nanoTime() + 1_500_000_000L; step < 8 || System.nanoTime() < warmEnd; step++) {
            objective.evaluate(mlp, params, x, batch, step, grad);
            adam.step(params, grad, 1.0);
            if (step >= 200) break;
        }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (budgetSeconds * 1e9);
        for (; times.size() < 3 || (System.nanoTime() < end && times.size() < 50); step++) {
            long t0 = System.nanoTime();
            objective.evaluate(mlp, params, x, batch, step, grad);
            adam.step(params, grad, 1.0);
            times.add((System.nanoTime() - t0) / 1e6);
        }
        List<Double> sorted = new ArrayList<>(times);
        sorted.sort(null);
        return new Row(method, shape, batch, sorted.get(sorted.size() / 2), times.size(), gflop);
    }

    /**
     * Peer ms/step by (method, D, H) from the peer script's CSVs, keeping the fastest of several runs (e.g. one and
     * two threads); its exact rows are compared with both exact algorithms.
     */
    public static Map<String, Double> readPeer(List<Path> files) {
        Map<String, Double> peer = new LinkedHashMap<>();
        for (Path f : files) readPeer(f).forEach((k, v) -> peer.merge(k, v, Math::min));
        return peer;
    }

    static Map<String, Double> readPeer(Path csv) {
        Map<String, Double> peer = new LinkedHashMap<>();
        List<String> lines = PeerCsv.lines(csv);
        List<String> header = Arrays.asList(lines.getFirst().split(","));
        int m = header.indexOf("method"), d = header.indexOf("D"), h = header.indexOf("H"), ms = header.indexOf("ms_per_step");
        if (m < 0 || d < 0 || h < 0 || ms < 0) throw new EbmException(csv + ": needs columns method, D, H, ms_per_step");
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            peer.put(f[m] + "|" + f[d] + "|" + f[h], Double.parseDouble(f[ms]));
        }
        return peer;
    }

    static Double peerFor(Map<String, Double> peer, Row r) {
        if (peer == null) return null;
        String m = r.method().startsWith("exact") ? "exact" : r.method();
        return peer.get(m + "|" + r.shape().dim() + "|" + r.shape().hidden());
    }

    public static String table(List<Row> rows, double gemmRate, Map<String, Double> peer) {
        StringBuilder sb = new StringBuilder();
        sb.append("| shape | method | ms/step | GEMM GFLOP/step | GFLOP/s | share of GEMM rate | peer ms/step | speed-up vs peer |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            Double p = peerFor(peer, r);
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.3f | %.1f | %.0f%% | %s | %s |%n", r.shape(), r.method(),
                    r.msPerStep(), r.gflopPerStep(), r.gflops(), 100 * r.gflops() / gemmRate,
                    p == null ? "—" : String.format(Locale.ROOT, "%.1f", p),
                    p == null ? "—" : String.format(Locale.ROOT, "%.1f×", p / r.msPerStep())));
        }
        return sb.toString();
    }

    /** results.csv rows with the same leading columns as the peer script's. */
    public static String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder("method,D,H,layers,batch,backend,ms_per_step,reps,gemm_gflop_per_step\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,cpu-fp64,%.3f,%d,%.4f%n", r.method(), r.shape().dim(),
                    r.shape().hidden(), r.shape().layers(), r.batch(), r.msPerStep(), r.reps(), r.gflopPerStep()));
        }
        return sb.toString();
    }
}
