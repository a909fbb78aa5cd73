package ebm.bench;

import ebm.EbmException;
import ebm.Words;
import ebm.bench.KernelBench.Row;
import ebm.bench.KernelBench.Settings;
import ebm.config.BackendKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * results.csv and report.md of `ebm bench kernels`, the peer's CSV (bench/peers/torch_kernels.py writes the same
 * columns), and the verdict on the targets, computed from the rows.
 */
public final class KernelBenchReport {
    public static final List<String> COLUMNS = List.of("family", "shape", "backend", "precision", "ms", "reps", "bytes",
            "flops", "achieved", "unit", "limit", "limit_name", "share_of_limit", "validation_error", "tolerance", "status",
            "validated_against");
    public static final List<String> PEER_COLUMNS = List.of("peer_backend", "peer_ms", "speedup_vs_peer");

    // The targets.
    static final long ADAMW_BANDWIDTH_FROM = 1L << 24;
    static final double ADAMW_BANDWIDTH_SHARE = 0.90;
    static final long ADAMW_PEER_AT = 1L << 20;
    static final double ADAMW_PEER_SPEEDUP = 3.0;
    static final int NS_PEER_FROM = 4096;
    static final double NS_PEER_LARGE = 0.95;
    static final int NS_PEER_SMALL_AT = 1024;
    static final double NS_PEER_SMALL = 2.0;

    private KernelBenchReport() {}

    /** The fastest peer row per family|shape|precision. */
    public record Peer(String backend, double ms) {}

    static String key(String family, String shape, String precision) {
        return family + "|" + shape + "|" + precision;
    }

    /** Peer rows (status ok) from the peer CSVs; several files or rows for one key keep the fastest. */
    public static Map<String, Peer> readPeer(List<Path> files) {
        Map<String, Peer> peer = new LinkedHashMap<>();
        for (Path file : files) {
            List<String> lines = PeerCsv.lines(file);
            if (lines.isEmpty()) throw new EbmException(file + ": empty peer CSV");
            List<String> header = Arrays.asList(lines.getFirst().split(",", -1));
            int f = header.indexOf("family"), sh = header.indexOf("shape"), p = header.indexOf("precision"),
                    ms = header.indexOf("ms"), b = header.indexOf("backend"), st = header.indexOf("status");
            if (f < 0 || sh < 0 || p < 0 || ms < 0 || b < 0 || st < 0) {
                throw new EbmException(file + ": a peer CSV needs the columns family, shape, backend, precision, ms, status");
            }
            for (String line : lines.subList(1, lines.size())) {
                if (line.isBlank()) continue;
                String[] v = line.split(",", -1);
                if (!v[st].equals("ok") || v[ms].isEmpty()) continue;
                Peer row = new Peer(v[b], Double.parseDouble(v[ms]));
                peer.merge(key(v[f], v[sh], v[p]), row, (x, y) -> x.ms() <= y.ms() ? x : y);
            }
        }
        return peer;
    }

    static Peer peerFor(Map<String, Peer> peer, Row r) {
        return peer == null ? null : peer.get(key(r.family(), r.shape(), r.precision()));
    }

    private static String text(String s) {
        return s == null ? "" : s.replace(',', ';').replace('\n', ' ');
    }

    private static String num(double v, String format) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "";
    }

    public static String csv(List<Row> rows, Map<String, Peer> peer) {
        StringBuilder sb = new StringBuilder(String.join(",", COLUMNS));
        if (peer != null) sb.append(',').append(String.join(",", PEER_COLUMNS));
        sb.append('\n');
        for (Row r : rows) {
            boolean ok = r.ok();
            sb.append(String.join(",", r.family(), text(r.shape()), r.backend().configName(), r.precision(), num(r.ms(), "%.6f"),
                    Integer.toString(r.reps()), Long.toString(r.bytes()), Long.toString(r.flops()),
                    ok ? num(r.achieved(), "%.3f") : "", r.unit(), num(r.limit(), "%.3f"), text(r.limitName()),
                    ok ? num(r.share(), "%.4f") : "", num(r.validationError(), "%.3e"), num(r.tolerance(), "%.1e"),
                    text(r.status()), text(r.validatedAgainst())));
            if (peer != null) {
                Peer p = peerFor(peer, r);
                sb.append(',').append(p == null ? "" : text(p.backend())).append(',').append(p == null ? "" : num(p.ms(), "%.6f"))
                        .append(',').append(p == null || !ok ? "" : num(p.ms() / r.ms(), "%.3f"));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Rate in the report's unit: TFLOP/s on a GPU, GFLOP/s elsewhere; GB/s for bandwidth. */
    private static String rate(Row r, boolean tera) {
        if (!r.ok()) return "—";
        if (r.bandwidth()) return String.format(Locale.ROOT, "%.1f GB/s", r.achieved());
        return tera ? String.format(Locale.ROOT, "%.1f TFLOP/s", r.achieved() / 1e3) : String.format(Locale.ROOT, "%.1f GFLOP/s", r.achieved());
    }

    private static String limitText(Row r, boolean tera) {
        if (!Double.isFinite(r.limit())) return "—";
        if (r.bandwidth()) return String.format(Locale.ROOT, "%.1f GB/s (%s)", r.limit(), r.limitName());
        return tera ? String.format(Locale.ROOT, "%.1f TFLOP/s (%s)", r.limit() / 1e3, r.limitName())
                : String.format(Locale.ROOT, "%.1f GFLOP/s (%s)", r.limit(), r.limitName());
    }

    private static String work(Row r) {
        return r.bandwidth() ? String.format(Locale.ROOT, "%.1f MB", r.bytes() / 1e6) : String.format(Locale.ROOT, "%.3g GFLOP", r.flops() / 1e9);
    }

    public static String table(List<Row> rows, Map<String, Peer> peer, boolean tera) {
        StringBuilder sb = new StringBuilder("| family | shape | precision | ms | work | achieved | limit | share | validation error (tol) | status |");
        if (peer != null) sb.append(" peer ms | speed-up vs peer |");
        sb.append('\n').append("|---".repeat(peer != null ? 12 : 10)).append("|\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s |", r.family(), r.shape(),
                    r.precision(), r.ok() ? String.format(Locale.ROOT, "%.4f", r.ms()) : "—", work(r), rate(r, tera),
                    limitText(r, tera), r.ok() && Double.isFinite(r.share()) ? String.format(Locale.ROOT, "%.0f%%", 100 * r.share()) : "—",
                    num(r.validationError(), "%.2g"), num(r.tolerance(), "%.0e"), r.status().replace('|', '/')));
            if (peer != null) {
                Peer p = peerFor(peer, r);
                sb.append(p == null ? " — | — |" : String.format(Locale.ROOT, " %.4f (%s) | %s |", p.ms(), p.backend(),
                        r.ok() ? String.format(Locale.ROOT, "%.2f×", p.ms() / r.ms()) : "—"));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static long sizeOf(Row r) {
        String shape = r.shape();
        if (!shape.startsWith("n=")) return -1;
        String digits = shape.substring(2).split(" ")[0];
        return Long.parseLong(digits);
    }

    /** The targets, each met / missed (with the limit hit, in numbers) / not measured, then the GEMM families. */
    public static String verdict(List<Row> rows, Map<String, Peer> peer, boolean tera) {
        boolean cpu = rows.stream().anyMatch(r -> r.backend() == BackendKind.CPU);
        StringBuilder sb = new StringBuilder();
        List<Row> failed = rows.stream().filter(r -> !r.ok()).toList();
        if (!failed.isEmpty()) {
            sb.append(failed.size() == 1 ? "**Failed row** (not timed): " : "**Failed rows** (not timed): ").append(failed.stream()
                    .map(r -> r.family() + " " + r.shape() + " " + r.precision() + " (" + r.status()
                            + (Double.isFinite(r.validationError()) ? String.format(Locale.ROOT, ", error %.3g > %.1g", r.validationError(), r.tolerance()) : "") + ")")
                    .collect(Collectors.joining("; "))).append(".\n\n");
        }
        List<Row> adamw = rows.stream().filter(r -> r.family().equals("adamw") && r.ok()).toList();
        sb.append("**AdamW ≥ 90% of copy bandwidth from 16M parameters.** ");
        List<Row> large = adamw.stream().filter(r -> sizeOf(r) >= ADAMW_BANDWIDTH_FROM).toList();
        if (large.isEmpty()) {
            sb.append("Not measured: no AdamW row with n ≥ ").append(ADAMW_BANDWIDTH_FROM).append(" ran. ");
        }
        for (Row r : large) {
            boolean met = r.share() >= ADAMW_BANDWIDTH_SHARE;
            double boundMs = r.bytes() / (r.limit() * 1e6);
            sb.append(String.format(Locale.ROOT, "n=%d: %s — %.1f GB/s is %.1f%% of the copy's %.1f GB/s",
                    sizeOf(r), met ? "met" : "missed", r.achieved(), 100 * r.share(), r.limit()));
            if (!met) {
                sb.append(String.format(Locale.ROOT, " (%.1f MB at copy bandwidth would take %.3f ms; it took %.3f ms, %.3f ms more)",
                        r.bytes() / 1e6, boundMs, r.ms(), r.ms() - boundMs));
            }
            sb.append(". ");
        }
        if (!adamw.isEmpty()) {
            Row smallest = adamw.getFirst();
            double boundMs = smallest.bytes() / (smallest.limit() * 1e6);
            sb.append(String.format(Locale.ROOT, "At %s it reaches %.0f%% of copy bandwidth: %.4f ms against %.4f ms of pure traffic; %s",
                    adamw.size() == 1 ? "n=" + sizeOf(smallest) + ", the one size run," : "the smallest size (n=" + sizeOf(smallest) + ")", 100 * smallest.share(), smallest.ms(), boundMs, cpu
                            ? String.format(Locale.ROOT, "the CPU step is a vector loop with a square root and a division per element, one "
                                    + "chunk per thread: %.2f ns per element.", 1e6 * smallest.ms() / sizeOf(smallest))
                            : "the rest is the fixed cost of a step (two launches: the one-thread advance and the update)."));
        }
        sb.append("\n\n**AdamW ≥ 3× the peer at 1M parameters.** ");
        Row oneM = adamw.stream().filter(r -> sizeOf(r) == ADAMW_PEER_AT).findFirst().orElse(null);
        sb.append(peerTarget(oneM, peer, ADAMW_PEER_SPEEDUP, "n=" + ADAMW_PEER_AT));
        List<Row> ns = rows.stream().filter(r -> r.family().equals("muon-ns5") && r.ok()).toList();
        sb.append("\n\n**Muon Newton–Schulz within 5% of the peer at n ≥ 4096 and ≥ 2× at n = 1024.** ");
        List<String> nsParts = new ArrayList<>();
        for (Row r : ns) {
            long n = sizeOf(r);
            if (n >= NS_PEER_FROM) nsParts.add(r.shape() + " " + r.precision() + ": " + peerTarget(r, peer, NS_PEER_LARGE, null));
            else if (n == NS_PEER_SMALL_AT) nsParts.add(r.shape() + " " + r.precision() + ": " + peerTarget(r, peer, NS_PEER_SMALL, null));
        }
        sb.append(nsParts.isEmpty() ? "Not measured: no NS row at n = 1024 or n ≥ 4096 ran." : String.join(" ", nsParts));
        if (!ns.isEmpty()) {
            Row best = ns.stream().max((a, b) -> Double.compare(a.share(), b.share())).get();
            Row worst = ns.stream().min((a, b) -> Double.compare(a.share(), b.share())).get();
            String reach = ns.size() == 1
                    ? String.format(Locale.ROOT, "the NS row (%s %s) reaches %.0f%%", worst.shape(), worst.precision(), 100 * worst.share())
                    : String.format(Locale.ROOT, "the NS rows reach %.0f%% (%s %s) to %.0f%% (%s %s)", 100 * best.share(), best.shape(),
                            best.precision(), 100 * worst.share(), worst.shape(), worst.precision());
            sb.append(String.format(Locale.ROOT, " Against the GEMM limit of the same precision %s; "
                    + "below the limit the time goes to the elementwise work around the 15 GEMMs (norm, normalisation%s) and to "
                    + "GEMMs too small to fill the machine: at %s %s the 15 GEMMs at the limit rate would take %.4f ms of the %.4f ms measured.",
                    reach, cpu ? ", copies of X in, per step and out" : ", two copies per iteration for the β-folded GEMMs", worst.shape(),
                    worst.precision(), worst.flops() / (worst.limit() * 1e6), worst.ms()));
        }
        for (String family : List.of("forward", "exact-trace")) {
            List<Row> f = rows.stream().filter(r -> r.family().equals(family) && r.ok()).toList();
            if (f.isEmpty()) continue;
            sb.append("\n\n**").append(family).append("** (no target; share of the GEMM limit of its precision): ");
            sb.append(f.stream().map(r -> String.format(Locale.ROOT, "%s %s %s (%.0f%%)", r.shape().replaceFirst("^B=\\d+ ", ""),
                    r.precision(), rate(r, tera), 100 * r.share())).collect(Collectors.joining(", ")));
            sb.append(family.equals("forward")
                    ? ". Its GEMMs are B × H × H per layer, small next to the limit's square product; the fused bias + activation "
                    + "between them (B·H values) and per-call overheads take the rest."
                    : ". Its GEMMs are B·r × H × H per layer (r = min(D, H) directions per sample); the elementwise ops between them "
                    + "(activations, grouped products and sums over B·r·H values) are memory-bound and take the rest.");
        }
        return sb.append('\n').toString();
    }

    /** "met: 3.2× (ours 0.1 ms, peer 0.3 ms)" or why not judged. */
    private static String peerTarget(Row r, Map<String, Peer> peer, double target, String label) {
        String what = label == null ? "" : label + ": ";
        if (r == null) return what + "not measured (no such row ran).";
        Peer p = peerFor(peer, r);
        if (peer == null) return what + "not judged: no peer CSV (--peer) was given.";
        if (p == null) return what + "not judged: the peer CSV has no " + r.family() + " " + r.shape() + " " + r.precision() + " row.";
        double speedup = p.ms() / r.ms();
        boolean met = speedup >= target;
        String s = String.format(Locale.ROOT, "%s%s — %.2f× the peer (%.4f ms vs %s's %.4f ms; target ≥ %.2f×)", what,
                met ? "met" : "missed", speedup, r.ms(), p.backend(), p.ms(), target);
        if (!met && Double.isFinite(r.limit())) {
            double boundMs = (r.bandwidth() ? r.bytes() : r.flops()) / (r.limit() * 1e6);
            s += String.format(Locale.ROOT, "; at the measured limit (%s) the work takes %.4f ms, so %s", r.limitName(), boundMs,
                    p.ms() < boundMs ? "the peer beats the limit measured here (it does less work or measures differently)"
                            : String.format(Locale.ROOT, "%.4f ms of ours is overhead above the limit", r.ms() - boundMs));
        }
        return s + ".";
    }

    /** "n = 1024, 4096", or "none" when no size of that family was run. */
    private static String values(String name, List<? extends Number> v) {
        return v.isEmpty() ? "none" : name + " = " + v.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }

    /** Writes results.csv and report.md into out. */
    public static void write(Path out, Settings s, KernelBench.Result result, Map<String, Peer> peer, List<Path> peerFiles) {
        boolean tera = s.backend() == BackendKind.CUDA;
        List<Row> rows = result.rows();
        StringBuilder md = new StringBuilder();
        md.append("# Kernel benchmark (").append(s.backend()).append(")\n\n");
        md.append("Written by `ebm bench kernels").append(s.quick() ? " --quick" : "").append(" --backend ").append(s.backend())
                .append("`. Machine: ").append(result.machine()).append(".\n\n");
        md.append(String.format(Locale.ROOT, "Sizes run: AdamW %s; Muon NS %s; MLP (softplus, %s of %d, B = %d) %s; "
                        + "%s %s. Median of %s after %s; %s.%n%n",
                values("n", s.sizes()), values("n", s.nsSizes()), Words.count(s.layers(), "hidden layer"), s.hidden(), s.batch(),
                values("D", s.dims()), s.precisions().size() == 1 ? "precision" : "precisions",
                s.precisions().isEmpty() ? "none" : String.join(", ", s.precisions()),
                Words.count(s.repeats(), "repeat"), Words.count(s.warmup(), "warm-up run"),
                s.cpu() ? "host clock around each run"
                        : s.backend() == BackendKind.CUDA ? "each repeat replays a CUDA graph of k copies of the operation (k for about 1 ms) between two CUDA events, ms = elapsed / k"
                        : "host clock around each run and a synchronisation (the host build of the kernels: these timings say nothing about a GPU)"));
        md.append("Counting: AdamW moves 7 values per parameter (reads g, θ, m, v; writes θ, m, v): 28 bytes in fp32, 56 in fp64. "
                + "Muon NS counts the GEMM FLOPs of 5 quintic steps on an n × n matrix, 3 GEMMs of 2n³ each per step (30n³); its time "
                + "is the Newton–Schulz iteration alone (Frobenius norm, normalisation, the 5 steps) as Muon runs it "
                + "(DeviceNewtonSchulz on the CUDA backends, Muon.newtonSchulz on the CPU). "
                + "forward / exact-trace count the GEMM FLOPs their tape issued (2mnk per GEMM); exact-trace is the forward pass plus the "
                + "propagation of r = min(D, H) directions (no backward pass). Limits are measured in this run: the copy (bytes read + "
                + "written) and a square GEMM per precision, both validated first.\n\n");
        if (peer != null) {
            md.append("Peer: ").append(peerFiles.stream().map(Path::toString).collect(Collectors.joining(", ")))
                    .append(" (speed-up = peer ms / our ms, the fastest peer row per family, shape and precision).\n\n");
        }
        md.append("## Results\n\n").append(table(rows, peer, tera)).append("\n## Targets\n\n").append(verdict(rows, peer, tera));
        try {
            Files.createDirectories(out);
            Files.writeString(out.resolve("results.csv"), csv(rows, peer));
            Files.writeString(out.resolve("report.md"), md.toString());
        } catch (IOException e) {
            throw new EbmException("cannot write to " + out + ": " + e.getMessage());
        }
    }
}
