package ebm.bench;

import ebm.EbmException;
import ebm.Words;
import ebm.bench.TraceBench.Row;
import ebm.bench.TraceBench.Settings;
import ebm.config.BackendKind;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * `bench trace --peer FILE`: the peers' rows (bench/peers/torch_trace.py, jax_trace.py) beside ebm's, per (method, D),
 * with the speed-up over the fastest peer row of the same shape, precision and device, and the target for that row.
 * ebm's exact-per-dimension and exact-row-space are both compared with the peers' {@code exact} rows (every variant:
 * D-loop, vmapped HVPs, forward Laplacian, compiled); the estimators by their identical names.
 */
public final class TracePeers {
    /** The columns a peer CSV must have; peak_bytes and skipped are read when present. */
    public static final List<String> REQUIRED = List.of("method", "D", "H", "layers", "batch", "backend", "variant",
            "device", "precision", "ms_per_step");
    /** Overhead-bound region of the exact targets: D up to this (the "D ≤ 64 at these sizes"). */
    static final int OVERHEAD_MAX_DIM = 64;

    private TracePeers() {}

    /**
     * One measured peer row; peakBytes -1 when the peer did not measure it, blas empty and threads 0 when it did not
     * record them.
     */
    public record Peer(String method, int dim, int hidden, int layers, int batch, String backend, String variant,
                       String device, String precision, double ms, long peakBytes, String blas, int threads) {
        String label() {
            return variant.isEmpty() || backend.contains(variant) ? backend : backend + " " + variant;
        }
    }

    /** Every measured row of the files (rows with a `skipped` reason or no time are left out). */
    public static List<Peer> read(List<Path> files) {
        List<Peer> out = new ArrayList<>();
        for (Path file : files) {
            List<String> lines = PeerCsv.lines(file);
            if (lines.isEmpty() || lines.getFirst().isBlank()) throw new EbmException(file + ": empty peer CSV");
            List<String> header = Arrays.asList(lines.getFirst().strip().split(",", -1));
            int[] col = PeerCsv.columns(file, lines.getFirst(), REQUIRED, "peer");
            int peak = header.indexOf("peak_bytes"), skipped = header.indexOf("skipped"), blas = header.indexOf("blas"),
                    threads = header.indexOf("threads");
            for (int n = 1; n < lines.size(); n++) {
                String line = lines.get(n);
                if (line.isBlank()) continue;
                String[] v = line.split(",", -1);
                if (v.length < header.size()) {
                    throw new EbmException(file + " line " + (n + 1) + ": " + v.length + " fields, the header has " + header.size());
                }
                if (skipped >= 0 && !v[skipped].isBlank()) continue;
                String ms = v[col[9]].strip();
                if (ms.isEmpty()) continue;
                out.add(new Peer(v[col[0]].strip(), integer(file, n, "D", v[col[1]]), integer(file, n, "H", v[col[2]]),
                        integer(file, n, "layers", v[col[3]]), integer(file, n, "batch", v[col[4]]), v[col[5]].strip(),
                        v[col[6]].strip(), v[col[7]].strip(), v[col[8]].strip(), number(file, n, "ms_per_step", ms),
                        peak < 0 || v[peak].isBlank() ? -1 : (long) number(file, n, "peak_bytes", v[peak]),
                        blas < 0 ? "" : v[blas].strip(),
                        threads < 0 || v[threads].isBlank() ? 0 : integer(file, n, "threads", v[threads])));
            }
        }
        return out;
    }

    private static int integer(Path file, int n, String column, String v) {
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new EbmException(file + " line " + (n + 1) + ": column " + column + " is not an integer: '" + v + "'");
        }
    }

    private static double number(Path file, int n, String column, String v) {
        try {
            double d = Double.parseDouble(v.strip());
            if (!(d >= 0) || Double.isInfinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new EbmException(file + " line " + (n + 1) + ": column " + column + " is not a number >= 0: '" + v + "'");
        }
    }

    /** The peers' method name for an ebm method (both exact algorithms meet the peers' `exact`). */
    static String peerMethod(String method) {
        return TraceBench.isExact(method) ? "exact" : method;
    }

    /** The device a peer must have run on to be compared with this backend. */
    static String device(Settings s) {
        return s.backend() == BackendKind.CPU ? "cpu" : "cuda";
    }

    /** The fastest peer row for an ebm row: same method, shape, batch, precision and device. */
    static Optional<Peer> best(List<Peer> peers, Settings s, Row r) {
        return peers.stream().filter(p -> p.method().equals(peerMethod(r.method())) && p.dim() == r.dim()
                        && p.hidden() == r.hidden() && p.layers() == r.layers() && p.batch() == r.batch()
                        && p.precision().equals(s.precision()) && p.device().equals(device(s)))
                .min(Comparator.comparingDouble(Peer::ms));
    }

    public enum Kind { SPEEDUP, GEMM_SHARE, NONE }

    /** What a row must reach: a speed-up over the best peer (and a memory ratio), or a share of the GEMM rate. */
    public record Target(Kind kind, double value, double maxMemoryRatio, String region) {
        String text() {
            String t = switch (kind) {
                case SPEEDUP -> String.format(Locale.ROOT, "≥%.0f× peer", value);
                case GEMM_SHARE -> String.format(Locale.ROOT, "≥%.0f%% of GEMM rate", 100 * value);
                case NONE -> "none";
            };
            if (maxMemoryRatio > 0) t += String.format(Locale.ROOT, ", memory ≤ %.2f× peer", maxMemoryRatio);
            return t + " (" + region + ")";
        }
    }

    /**
     * The rules with H₁ = the hidden width: exact rows are overhead-bound up to D = 64 (≥3× the best peer),
     * GEMM-bound with the same algorithm on both sides for 64 < D ≤ H₁ (≥70% of the GEMM rate), cut by the row-space
     * algorithm from D ≥ 2H₁ (≥3×) and from D ≥ 8H₁ (≥10× with at most a quarter of the peer's peak memory);
     * H₁ < D < 2H₁ has no target. Estimators (Hutchinson, sliced, Hutch++, denoising): ≥5× the best peer.
     */
    static Target target(String method, int dim, int hidden) {
        if (!TraceBench.isExact(method)) return new Target(Kind.SPEEDUP, 5, 0, "estimator, launch-bound in eager");
        if (dim <= OVERHEAD_MAX_DIM) return new Target(Kind.SPEEDUP, 3, 0, "overhead-bound, D ≤ " + OVERHEAD_MAX_DIM);
        if (dim <= hidden) return new Target(Kind.GEMM_SHARE, 0.70, 0, "GEMM-bound, 64 < D ≤ H₁");
        if (dim >= 8L * hidden) return new Target(Kind.SPEEDUP, 10, 0.25, "row-space, D ≥ 8H₁");
        if (dim >= 2L * hidden) return new Target(Kind.SPEEDUP, 3, 0, "row-space, D ≥ 2H₁");
        return new Target(Kind.NONE, 0, 0, "H₁ < D < 2H₁");
    }

    public enum Status { MET, MISSED, NO_PEER, NO_TARGET, NOT_JUDGED }

    /** One line of the side-by-side table. share: the ebm step's GEMM FLOPs per second over the GEMM rate. */
    public record Line(Row row, Peer peer, double speedup, double share, double memoryRatio, Target target, Status status,
                String why) {}

    /** The cheaper measured ebm exact row at each D carries the exact target; the other exact row is shown only. */
    public static List<Line> lines(Settings s, List<Row> rows, List<Peer> peers, double gemmRate) {
        List<Line> out = new ArrayList<>();
        for (Row r : rows) {
            if (!r.measured()) continue;
            Peer p = best(peers, s, r).orElse(null);
            double speedup = p == null ? Double.NaN : p.ms() / r.msPerStep();
            double share = gemmRate > 0 && r.gflopPerStep() > 0 ? r.gflopPerStep() / (r.msPerStep() / 1000) / gemmRate : Double.NaN;
            double memory = p != null && p.peakBytes() > 0 && r.peakBytes() > 0 ? (double) r.peakBytes() / p.peakBytes() : Double.NaN;
            Target t = target(r.method(), r.dim(), r.hidden());
            if (r.exact()) {
                Row cheapest = TraceBenchReport.cheapestExact(rows.stream().filter(x -> x.dim() == r.dim()).toList()).orElseThrow();
                if (cheapest != r) {
                    out.add(new Line(r, p, speedup, share, memory, new Target(Kind.NONE, 0, 0, cheapest.method()
                            + " is the cheaper exact here"), Status.NO_TARGET, ""));
                    continue;
                }
            }
            Status status;
            String why = "";
            switch (t.kind()) {
                case NONE -> status = Status.NO_TARGET;
                case GEMM_SHARE -> {
                    if (!Double.isFinite(share)) {
                        status = Status.NOT_JUDGED;
                        why = "no GEMM count or rate";
                    } else {
                        status = share >= t.value() ? Status.MET : Status.MISSED;
                    }
                }
                default -> {
                    if (p == null) {
                        status = Status.NO_PEER;
                    } else if (speedup < t.value()) {
                        status = Status.MISSED;
                    } else if (t.maxMemoryRatio() > 0 && !Double.isFinite(memory)) {
                        status = Status.NOT_JUDGED;
                        why = "speed-up met; no peak memory to compare";
                    } else {
                        status = t.maxMemoryRatio() > 0 && memory > t.maxMemoryRatio() ? Status.MISSED : Status.MET;
                    }
                }
            }
            out.add(new Line(r, p, speedup, share, memory, t, status, why));
        }
        return out;
    }

    private static String ms(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, v < 10 ? "%.3f" : "%.1f", v) : "—";
    }

    private static String statusText(Line l) {
        return switch (l.status()) {
            case MET -> "met";
            case MISSED -> "**missed**";
            case NO_PEER -> "no peer row";
            case NO_TARGET -> "—";
            case NOT_JUDGED -> "not judged: " + l.why();
        };
    }

    /** Why a missed line missed, with its numbers. */
    private static String missReason(Line l, Settings s) {
        Row r = l.row();
        String at = String.format(Locale.ROOT, "%s at D=%d: ebm %s ms", r.method(), r.dim(), ms(r.msPerStep()));
        String share = Double.isFinite(l.share()) ? String.format(Locale.ROOT, "%.1f%%", 100 * l.share()) : "unknown";
        if (l.target().kind() == Kind.GEMM_SHARE) {
            return at + String.format(Locale.ROOT, " reaches %s of the GEMM rate (target %.0f%%): %s", share,
                    100 * l.target().value(), l.share() < 0.2 ? "far from GEMM-bound, the step's other work and launches dominate"
                            : "GEMM-bound but below the target share");
        }
        String base = at + String.format(Locale.ROOT, " vs %s %s ms = %.2f× (target %.0f×)", l.peer().label(),
                ms(l.peer().ms()), l.speedup(), l.target().value());
        if (l.speedup() >= l.target().value() && l.target().maxMemoryRatio() > 0) {
            return at + String.format(Locale.ROOT, " is %.2f× the peer but holds %.2f× its peak memory (target ≤ %.2f×)",
                    l.speedup(), l.memoryRatio(), l.target().maxMemoryRatio());
        }
        if (Double.isFinite(l.share()) && l.share() >= 0.5) {
            return base + "; ebm's step already runs at " + share + " of the GEMM rate, so the GEMM rate is the limit "
                    + String.format(Locale.ROOT, "(at 100%% of it the speed-up would be at most %.2f×)", l.speedup() / l.share());
        }
        return base + "; ebm's step reaches " + share + " of the GEMM rate, far from GEMM-bound: its time goes to "
                + "per-step overhead and element-wise work, not to the GEMMs";
    }

    /** The report's section: the table, then a paragraph computed from it. */
    public static String markdown(Settings s, List<Row> rows, List<Peer> peers, List<Path> files, double gemmRate) {
        List<Line> lines = lines(s, rows, peers, gemmRate);
        StringBuilder sb = new StringBuilder("## Peers: same steps in other frameworks\n\n");
        sb.append("Peer files: ").append(files.stream().map(f -> "`" + f.getFileName() + "`").reduce((a, b) -> a + ", " + b)
                .orElse("none")).append(String.format(Locale.ROOT, " (%s). Best peer = the fastest peer row "
                + "with the same method, D, H, layers, batch, precision (%s) and device (%s), whatever its variant "
                + "(eager, compiled, jit; for exact: D-loop, vmapped HVPs, forward Laplacian); ebm's exact-per-dimension "
                + "and exact-row-space both meet the peers' `exact`. speed-up = peer ms / ebm ms. share = ebm's GEMM "
                + "FLOPs per second over the GEMM rate of this run (%.1f GFLOP/s). memory = ebm peak_bytes / the best "
                + "peer's (the two count differently: see each side's notes). Targets, H₁ = %d: exact ≥3× for D ≤ %d, "
                + "≥70%% of the GEMM rate for %d < D ≤ H₁, ≥3× for D ≥ 2H₁, ≥10× with ≤ ¼ of the peer's memory for "
                + "D ≥ 8H₁ (the cheaper ebm exact carries it); estimators ≥5×.%n%n", Words.count(peers.size(), "measured row"), s.precision(), device(s),
                gemmRate, s.hidden(), OVERHEAD_MAX_DIM, OVERHEAD_MAX_DIM));
        sb.append("| D | method | ebm ms | best peer ms | best peer | speed-up | share | memory | target | |\n"
                + "|---|---|---|---|---|---|---|---|---|---|\n");
        for (Line l : lines) {
            Row r = l.row();
            sb.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", r.dim(), r.method(),
                    ms(r.msPerStep()), l.peer() == null ? "—" : ms(l.peer().ms()), l.peer() == null ? "—" : l.peer().label(),
                    Double.isFinite(l.speedup()) ? String.format(Locale.ROOT, "%.2f×", l.speedup()) : "—",
                    Double.isFinite(l.share()) ? String.format(Locale.ROOT, "%.1f%%", 100 * l.share()) : "—",
                    Double.isFinite(l.memoryRatio()) && r.exact() ? String.format(Locale.ROOT, "%.2f×", l.memoryRatio()) : "—",
                    l.target().kind() == Kind.NONE ? "— (" + l.target().region() + ")" : l.target().text(), statusText(l)));
        }
        sb.append('\n').append(summary(lines, s)).append('\n');
        return sb.toString();
    }

    public static String summary(List<Line> lines, Settings s) {
        long judged = lines.stream().filter(l -> l.status() == Status.MET || l.status() == Status.MISSED).count();
        long met = lines.stream().filter(l -> l.status() == Status.MET).count();
        long noPeer = lines.stream().filter(l -> l.status() == Status.NO_PEER).count();
        StringBuilder sb = new StringBuilder("**Against the peers.** ");
        if (judged == 0) sb.append("No row could be judged against a target");
        else if (judged == 1) sb.append("The one judged row ").append(met == 1 ? "meets" : "misses").append(" its target");
        else if (met == judged) sb.append(judged == 2 ? "Both judged rows meet their target" : "All " + judged + " judged rows meet their target");
        else sb.append(met).append(" of ").append(judged).append(" judged rows ").append(met == 1 ? "meets its" : "meet their").append(" target");
        if (noPeer > 0) sb.append("; ").append(Words.count(noPeer, "row has", "rows have")).append(" no peer row to compare with");
        List<Line> sped = lines.stream().filter(l -> Double.isFinite(l.speedup())).toList();
        if (sped.size() == 1) {
            Line only = sped.getFirst();
            sb.append(String.format(Locale.ROOT, "; the speed-up is %.2f× (%s, D=%d)", only.speedup(), only.row().method(), only.row().dim()));
        } else if (!sped.isEmpty()) {
            Line lo = sped.stream().min(Comparator.comparingDouble(Line::speedup)).orElseThrow();
            Line hi = sped.stream().max(Comparator.comparingDouble(Line::speedup)).orElseThrow();
            sb.append(String.format(Locale.ROOT, "; speed-ups run from %.2f× (%s, D=%d) to %.2f× (%s, D=%d)", lo.speedup(),
                    lo.row().method(), lo.row().dim(), hi.speedup(), hi.row().method(), hi.row().dim()));
        }
        sb.append(".\n");
        List<Line> missed = lines.stream().filter(l -> l.status() == Status.MISSED).toList();
        if (!missed.isEmpty()) {
            sb.append("\nMissed:\n\n");
            for (Line l : missed) sb.append("- ").append(missReason(l, s)).append(".\n");
        }
        return sb.toString();
    }
}
