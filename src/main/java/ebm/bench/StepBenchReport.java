package ebm.bench;

import ebm.EbmException;
import ebm.bench.StepBench.GemmShape;
import ebm.bench.StepBench.Row;
import ebm.bench.TracePeers.Peer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * `ebm bench step`'s report: every row beside the fastest peer row of the same objective (bench/peers/torch_trace.py
 * on the CPU, fp64, any variant and thread count, the BLAS named), its share of the two GEMM limits measured in the
 * same run (ebm's own routine and the BLAS's dgemm from bench/peers/numpy_dgemm.py, both at 1024³), the target the
 * row must reach and, for every miss, what bounds it: the step's GEMM FLOPs at the rate ebm's routine reaches on the
 * step's own shape, and the tape's bytes at the measured memory bandwidth.
 */
public final class StepBenchReport {
    private StepBenchReport() {}

    /** A peer's dgemm rate at one shape, the fastest of its thread counts. */
    public record Limit(GemmShape shape, int threads, double gflops, String blas) {}

    /** What one run measured. ebmGemm: GFLOP/s of ebm's routine per shape of {@link StepBench#gemmShapes}. */
    public record Result(String machine, int batch, int rounds, List<Row> rows, Map<GemmShape, Double> ebmGemm,
                         List<Limit> blasGemm, List<Peer> peers, double bandwidth) {
        double ebmSquare() {
            return ebmGemm.get(GemmShape.SQUARE_1024);
        }

        Optional<Limit> blasSquare() {
            return limit(GemmShape.SQUARE_1024);
        }

        Optional<Limit> limit(GemmShape g) {
            return blasGemm.stream().filter(l -> l.shape().equals(g)).findFirst();
        }

        double highestLimit() {
            return StepBenchReport.highestLimit(ebmGemm, blasGemm);
        }
    }

    /** The highest rate measured at any shape by either routine: no step's GEMMs can run faster. */
    public static double highestLimit(Map<GemmShape, Double> ebmGemm, List<Limit> blasGemm) {
        double best = ebmGemm.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        return Math.max(best, blasGemm.stream().mapToDouble(Limit::gflops).max().orElse(0));
    }

    /** The peer's dgemm rates (numpy_dgemm.py's CSV), the fastest thread count per shape. */
    public static List<Limit> readLimits(List<Path> files) {
        Map<GemmShape, Limit> best = new LinkedHashMap<>();
        for (Path file : files) {
            List<String> lines = PeerCsv.lines(file);
            if (lines.isEmpty()) throw new EbmException(file + ": empty dgemm CSV");
            List<String> header = Arrays.asList(lines.getFirst().strip().split(",", -1));
            int[] col = PeerCsv.columns(file, lines.getFirst(), List.of("m", "n", "k", "trans", "threads", "gflops"), "dgemm");
            int blas = header.indexOf("blas");
            for (int n = 1; n < lines.size(); n++) {
                if (lines.get(n).isBlank()) continue;
                String[] v = lines.get(n).split(",", -1);
                if (v.length < header.size()) throw new EbmException(file + " line " + (n + 1) + ": " + v.length + " fields, the header has " + header.size());
                try {
                    GemmShape g = new GemmShape(Integer.parseInt(v[col[0]].strip()), Integer.parseInt(v[col[1]].strip()),
                            Integer.parseInt(v[col[2]].strip()), v[col[3]].strip());
                    Limit l = new Limit(g, Integer.parseInt(v[col[4]].strip()), Double.parseDouble(v[col[5]].strip()),
                            blas < 0 ? "" : v[blas].strip());
                    best.merge(g, l, (a, b) -> a.gflops() >= b.gflops() ? a : b);
                } catch (NumberFormatException e) {
                    throw new EbmException(file + " line " + (n + 1) + ": not a number in '" + lines.get(n) + "'");
                }
            }
        }
        return List.copyOf(best.values());
    }

    /** The CPU model (from /proc/cpuinfo), the threads the engine uses and the JDK: the line every report starts with. */
    public static String machine(int threads) {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse(cpu);
        } catch (IOException | RuntimeException e) {
            // not Linux: the JDK line still says what ran
        }
        return String.format(Locale.ROOT, "%s, %d threads, %s JDK %s", cpu, threads,
                System.getProperty("java.vendor", "?"), Runtime.version());
    }

    /** What a row must reach: a speed-up over a peer row (exact per-dimension: the forward Laplacian) and a GEMM share. */
    record Target(double speedup, String peerVariant, double share) {
        String text() {
            String t = String.format(Locale.ROOT, "≥%.0f× %s", speedup, peerVariant == null ? "fastest torch row" : "torch " + peerVariant);
            return Double.isNaN(share) ? t : t + String.format(Locale.ROOT, ", ≥%.0f%% of dgemm", 100 * share);
        }
    }

    /**
     * Exact rows: ≥3× the torch forward Laplacian (the same algorithm as per-dimension; row-space against torch's best
     * exact row), and from D = 64 at ≥60% of the BLAS's dgemm rate. Estimators: ≥2× the fastest torch row of the same
     * objective, and at D = 64 at ≥50% of that rate.
     */
    static Target target(Row r) {
        if (r.method().startsWith("exact")) {
            return new Target(3, r.method().equals("exact-per-dimension") ? "forward-laplacian" : null,
                    r.shape().dim() >= 64 ? 0.60 : Double.NaN);
        }
        return new Target(2, null, r.shape().dim() == 64 ? 0.50 : Double.NaN);
    }

    /** The fastest measured torch row of the row's objective and shape (of one variant when given). */
    static Optional<Peer> fastestPeer(List<Peer> peers, Row r, String variant) {
        String method = r.method().startsWith("exact") ? "exact" : r.method();
        return peers.stream().filter(p -> p.method().equals(method) && p.dim() == r.shape().dim()
                        && p.hidden() == r.shape().hidden() && p.layers() == r.shape().layers() && p.batch() == r.batch()
                        && p.device().equals("cpu") && p.precision().equals("fp64")
                        && (variant == null || p.variant().equals(variant)))
                .min(Comparator.comparingDouble(Peer::ms));
    }

    /** The row's main GEMM: its directions' propagation, (B·r)×H×H. */
    static GemmShape mainGemm(Row r) {
        return new GemmShape(r.batch() * StepBench.directions(r.method(), r.shape()), r.shape().hidden(), r.shape().hidden(), "NT");
    }

    public static String markdown(Result res) {
        StringBuilder sb = new StringBuilder("# CPU step benchmark\n\n");
        sb.append("Machine: ").append(res.machine()).append(".\n\n");
        sb.append(String.format(Locale.ROOT, "B=%d, fp64, softplus MLP, one step = loss + gradient + AdamW; median ms/step after "
                + "warm-up, best of %d round(s), with the fastest and slowest step of that row's repeats. ", res.batch(), res.rounds()));
        Optional<Limit> sq = res.blasSquare();
        String blasName = sq.map(Limit::blas).filter(b -> !b.isEmpty()).orElse("the peer's BLAS");
        sb.append(String.format(Locale.ROOT, "Limits measured in this run: ebm's GEMM %.1f GFLOP/s at 1024³%s; memory "
                + "bandwidth %.1f GB/s (one thread, y = a·x + y).%n%n", res.ebmSquare(),
                sq.map(l -> String.format(Locale.ROOT, ", %s dgemm %.1f GFLOP/s (%d thread%s)", blasName, l.gflops(),
                        l.threads(), l.threads() == 1 ? "" : "s")).orElse(" (no dgemm rates given: --limit)"), res.bandwidth()));
        String peerBlas = res.peers().stream().map(Peer::blas).filter(b -> !b.isEmpty()).distinct()
                .reduce((a, b) -> a + "; " + b).orElse("");
        if (!res.peers().isEmpty()) {
            sb.append("Peer: bench/peers/torch_trace.py on the CPU, fp64, the fastest of its variants and thread counts per "
                    + "row" + (peerBlas.isEmpty() ? " (BLAS not recorded)" : ", BLAS " + peerBlas) + ".\n\n");
        }
        sb.append("| shape | method | ms/step | fastest–slowest | GEMM GFLOP/step | GFLOP/s | share of ebm GEMM | share of dgemm "
                + "| torch row (variant, threads) | torch ms/step | speed-up | target | verdict |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        List<String> misses = new ArrayList<>();
        for (Row r : res.rows()) {
            Target t = target(r);
            Optional<Peer> p = fastestPeer(res.peers(), r, t.peerVariant());
            double speedup = p.map(x -> x.ms() / r.msPerStep()).orElse(Double.NaN);
            double shareEbm = r.gflops() / res.ebmSquare();
            double shareBlas = sq.map(l -> r.gflops() / l.gflops()).orElse(Double.NaN);
            List<String> missed = new ArrayList<>();
            if (r.exceedsLimit()) missed.add("time impossible: its GEMMs would run above every measured limit");
            if (p.isEmpty()) missed.add("no peer row");
            else if (speedup < t.speedup()) missed.add(String.format(Locale.ROOT, "%.2f× < %.0f× (%.0f%% short)", speedup,
                    t.speedup(), 100 * (1 - speedup / t.speedup())));
            if (!Double.isNaN(t.share())) {
                if (Double.isNaN(shareBlas)) missed.add("no dgemm rate");
                else if (shareBlas < t.share()) missed.add(String.format(Locale.ROOT, "%.0f%% < %.0f%% of dgemm", 100 * shareBlas, 100 * t.share()));
            }
            String verdict = missed.isEmpty() ? "met" : "missed: " + String.join("; ", missed);
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f–%.2f | %.3f | %.1f | %.0f%% | %s | %s | %s | %s | %s | %s |%n",
                    r.shape(), r.method(), r.msPerStep(), r.msMin(), r.msMax(), r.gflopPerStep(), r.gflops(), 100 * shareEbm,
                    Double.isNaN(shareBlas) ? "—" : String.format(Locale.ROOT, "%.0f%%", 100 * shareBlas),
                    p.map(x -> x.variant() + ", " + threadsOf(x)).orElse("—"),
                    p.map(x -> String.format(Locale.ROOT, "%.2f", x.ms())).orElse("—"),
                    Double.isNaN(speedup) ? "—" : String.format(Locale.ROOT, "%.2f×", speedup), t.text(), verdict));
            if (!missed.isEmpty()) misses.add(bound(res, r, verdict) + p.filter(x -> speedup < t.speedup())
                    .map(x -> reach(res, r, x, t.speedup())).orElse(""));
        }
        sb.append("\n## GEMM limits at the step's shapes\n\n");
        sb.append("GFLOP/s = 2mnk / time; m×n×k:NT is C = A·Bᵀ (the directions through a layer), TN is C = Aᵀ·B (a weight "
                + "gradient). ebm's column times each product as the step runs it: the batch's rows in the chunks of a gradient "
                + "evaluation, each chunk single-threaded, the chunks side by side; dgemm's is the whole product, best of its "
                + "thread counts.\n\n");
        sb.append("| GEMM | ebm GEMM GFLOP/s (as the step runs it) | dgemm GFLOP/s (threads) |\n|---|---|---|\n");
        for (Map.Entry<GemmShape, Double> e : res.ebmGemm().entrySet()) {
            Optional<Limit> l = res.limit(e.getKey());
            sb.append(String.format(Locale.ROOT, "| %s | %.1f | %s |%n", e.getKey(), e.getValue(),
                    l.map(x -> String.format(Locale.ROOT, "%.1f (%d)", x.gflops(), x.threads())).orElse("—")));
        }
        if (!misses.isEmpty()) {
            sb.append("\n## What bounds the misses\n\n");
            for (String m : misses) sb.append("- ").append(m).append('\n');
        }
        return sb.toString();
    }

    /**
     * A missed row's time split by what was measured: its GEMM FLOPs at the rate ebm's routine reached on the row's
     * main GEMM shape, its tape bytes written once at the measured bandwidth, and what is left.
     */
    static String bound(Result res, Row r, String verdict) {
        GemmShape g = mainGemm(r);
        double rate = res.ebmGemm().getOrDefault(g, res.ebmSquare());
        double gemmMs = r.gflopPerStep() / rate * 1e3;
        double tapeMb = r.tapeBytesPerStep() / 1e6, tapeMs = r.tapeBytesPerStep() / (res.bandwidth() * 1e9) * 1e3;
        double rest = r.msPerStep() - gemmMs - tapeMs;
        return String.format(Locale.ROOT, "%s %s (%s): %.2f ms per step. Its %.3f GFLOP at ebm's rate on %s (%.1f GFLOP/s) "
                + "take %.2f ms (%.0f%%); the tape's %.1f MB per step, written once at %.1f GB/s, take %.2f ms (%.0f%%); "
                + "the other %.2f ms (%.0f%%) are above both floors: the backward pass reading the tape back, the "
                + "activations, the optimizer and per-op overhead.", r.shape(), r.method(), verdict, r.msPerStep(), r.gflopPerStep(), g, rate, gemmMs,
                100 * gemmMs / r.msPerStep(), tapeMb, res.bandwidth(), tapeMs, 100 * tapeMs / r.msPerStep(), rest,
                100 * rest / r.msPerStep());
    }

    /**
     * Whether a speed-up target is in reach at all: the step's GEMM FLOPs at the highest rate measured in this run
     * (either routine, any shape) against the time the target allows.
     */
    static String reach(Result res, Row r, Peer p, double target) {
        double allowed = p.ms() / target, floor = r.gflopPerStep() / res.highestLimit() * 1e3;
        return String.format(Locale.ROOT, " %.0f× the peer allows %.2f ms; the GEMMs alone at the highest rate measured in "
                        + "this run (%.1f GFLOP/s) take %.2f ms, so %s", target, allowed, res.highestLimit(), floor,
                floor > allowed ? "the target is out of reach while the peer's own products run at the BLAS's rate"
                        : String.format(Locale.ROOT, "%.2f ms are left for everything else (now %.2f ms)", allowed - floor,
                        r.msPerStep() - floor));
    }

    private static String threadsOf(Peer p) {
        return p.threads() > 0 ? p.threads() + " thr" : "threads not recorded";
    }

    /** results.csv: the peer scripts' leading columns, then the spread, tape bytes and the limit flag. */
    public static String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder("method,D,H,layers,batch,backend,ms_per_step,ms_min,ms_max,reps,"
                + "gemm_gflop_per_step,tape_bytes_per_step,exceeds_limit\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,cpu-fp64,%.3f,%.3f,%.3f,%d,%.4f,%d,%b%n", r.method(),
                    r.shape().dim(), r.shape().hidden(), r.shape().layers(), r.batch(), r.msPerStep(), r.msMin(), r.msMax(),
                    r.reps(), r.gflopPerStep(), r.tapeBytesPerStep(), r.exceedsLimit()));
        }
        return sb.toString();
    }
}
