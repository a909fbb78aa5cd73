package ebm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.TestTexts;
import ebm.bench.TraceBench.Row;
import ebm.bench.TraceBench.Settings;
import ebm.bench.TracePeers.Line;
import ebm.bench.TracePeers.Status;
import ebm.cli.Cli;
import ebm.config.BackendKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `bench trace --peer`: a hand-written peer CSV against hand-written ebm rows, the target regions, bad peer files. */
class TracePeersTest {
    @TempDir
    Path tmp;

    private static final int H = 128;
    private static final String HEADER = String.join(",", TracePeers.REQUIRED) + ",peak_bytes,skipped";
    private static final double GEMM_RATE = 1000; // GFLOP/s

    private static Row row(String method, int dim, double ms, double gflop, long peak) {
        return new Row(method, dim, H, 3, 256, ms, 10, ms, ms, false, peak, gflop, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, 0, List.of(), "");
    }

    private static String peer(String method, int dim, String variant, String precision, String ms, String peak, String skipped) {
        String label = variant.equals("compile") ? "compile" : "eager";
        return String.join(",", method, Integer.toString(dim), Integer.toString(H), "3", "256",
                "torch-2.11-" + label + "-cuda-" + precision, variant, "cuda", precision, ms, peak, skipped);
    }

    private Path peerFile(String name, String... lines) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, HEADER + "\n" + String.join("\n", lines) + "\n");
        return f;
    }

    private static Settings cudaFp32() {
        return Settings.defaults(true).withBackend(BackendKind.CUDA, "fp32").with(List.of(16), H, 3, 256, null, null, null);
    }

    private static Line lineFor(List<Line> lines, String method, int dim) {
        return lines.stream().filter(l -> l.row().method().equals(method) && l.row().dim() == dim).findFirst().orElseThrow();
    }

    @Test
    void speedUpsTargetsAndVerdictsFollowFromTheRows() throws IOException {
        List<Row> rows = List.of(
                row("exact-per-dimension", 16, 0.8, 0.012, 50), row("exact-row-space", 16, 1.0, 0.01, 50),
                row("hutchinson-1", 16, 0.5, 0.001, 10), row("denoising", 16, 0.5, 0.001, 10),
                row("exact-row-space", 96, 2.0, 0.8, 100),     // 400 GFLOP/s: 40% of the rate
                row("exact-row-space", 128, 1.0, 0.8, 100),    // 80%
                row("exact-row-space", 192, 1.0, 0.8, 100),    // H < D < 2H: no target
                row("exact-row-space", 256, 1.0, 0.8, 100),
                row("exact-row-space", 1024, 1.0, 0.8, 100),
                row("exact-row-space", 2048, 1.0, 0.8, 600),
                row("exact-row-space", 4096, 1.0, 0.8, 100));
        Path torch = peerFile("torch_trace.csv",
                peer("exact", 16, "dloop", "fp32", "5.0", "900", ""),
                peer("exact", 16, "forward-laplacian", "fp32", "2.0", "800", ""),
                peer("exact", 16, "forward-laplacian", "tf32", "0.1", "800", ""),       // other precision: not compared
                peer("exact", 16, "vmap-hvp", "fp32", "", "", "torch 1.13 has no torch.func"),
                peer("exact", 16, "compile", "fp32", "0.05", "", "skipped; but timed"), // a skipped row never counts
                peer("hutchinson-1", 16, "eager", "fp32", "3.0", "10", ""),
                peer("exact", 96, "forward-laplacian", "fp32", "3.0", "", ""),
                peer("exact", 256, "forward-laplacian", "fp32", "3.5", "", ""),
                peer("exact", 1024, "forward-laplacian", "fp32", "12.0", "1000", ""),
                peer("exact", 2048, "forward-laplacian", "fp32", "20.0", "1000", ""),
                peer("exact", 4096, "forward-laplacian", "fp32", "40.0", "", ""));
        Path jax = peerFile("jax_trace.csv", peer("hutchinson-1", 16, "compile", "fp32", "2.6", "", ""));
        List<TracePeers.Peer> peers = TracePeers.read(List.of(torch, jax));
        assertEquals(10, peers.size(), "skipped rows and rows without a time are left out");
        Settings s = cudaFp32();
        List<Line> lines = TracePeers.lines(s, rows, peers, GEMM_RATE);

        // D=16: per-dimension is ebm's cheaper exact and carries the overhead-bound target: 2.0 / 0.8 = 2.5 < 3.
        Line perDim = lineFor(lines, "exact-per-dimension", 16);
        assertEquals(2.5, perDim.speedup(), 1e-12);
        assertEquals("forward-laplacian", perDim.peer().variant(), "the fastest fp32 row, not the tf32 or skipped ones");
        assertEquals(Status.MISSED, perDim.status());
        assertEquals(50.0 / 800, perDim.memoryRatio(), 1e-12);
        Line rowSpace16 = lineFor(lines, "exact-row-space", 16);
        assertEquals(Status.NO_TARGET, rowSpace16.status());
        assertEquals(2.0, rowSpace16.speedup(), 1e-12);
        // estimators: ≥5× the best peer across files (jax's 2.6 ms beats torch's 3.0): 5.2× met
        Line hutch = lineFor(lines, "hutchinson-1", 16);
        assertEquals(2.6 / 0.5, hutch.speedup(), 1e-12);
        assertEquals("torch-2.11-compile-cuda-fp32", hutch.peer().label(), "from jax_trace.csv, the second file");
        assertEquals(Status.MET, hutch.status());
        assertEquals(Status.NO_PEER, lineFor(lines, "denoising", 16).status());
        // GEMM-bound region (64 < D ≤ H): judged by the share of the GEMM rate, not by the peer
        Line d96 = lineFor(lines, "exact-row-space", 96);
        assertEquals(0.4, d96.share(), 1e-12);
        assertEquals(Status.MISSED, d96.status());
        assertEquals(1.5, d96.speedup(), 1e-12);
        assertEquals(Status.MET, lineFor(lines, "exact-row-space", 128).status());
        assertEquals(Status.NO_TARGET, lineFor(lines, "exact-row-space", 192).status());
        // row-space: ≥3× from 2H, ≥10× and ≤ ¼ of the peer's memory from 8H
        assertEquals(Status.MET, lineFor(lines, "exact-row-space", 256).status());
        Line d1024 = lineFor(lines, "exact-row-space", 1024);
        assertEquals(12.0, d1024.speedup(), 1e-12);
        assertEquals(0.1, d1024.memoryRatio(), 1e-12);
        assertEquals(Status.MET, d1024.status());
        Line d2048 = lineFor(lines, "exact-row-space", 2048);
        assertEquals(20.0, d2048.speedup(), 1e-12);
        assertEquals(Status.MISSED, d2048.status(), "fast enough but 0.6× the peer's memory");
        assertEquals(Status.NOT_JUDGED, lineFor(lines, "exact-row-space", 4096).status(), "no peer memory to compare");

        String md = TracePeers.markdown(s, rows, peers, List.of(torch, jax), GEMM_RATE);
        System.out.println(md);
        TestTexts.assertContains(md,
                "| 16 | exact-per-dimension | 0.800 | 2.000 | torch-2.11-eager-cuda-fp32 forward-laplacian | 2.50× "
                + "| 1.5% | 0.06× | ≥3× peer (overhead-bound, D ≤ 64) | **missed** |",
                "| 2048 | exact-row-space | 1.000 | 20.0 | torch-2.11-eager-cuda-fp32 forward-laplacian | 20.00× "
                + "| 80.0% | 0.60× | ≥10× peer, memory ≤ 0.25× peer (row-space, D ≥ 8H₁) | **missed** |",
                "**Against the peers.** 4 of 7 judged rows meet their target; 1 row has no peer row",
                "- exact-row-space at D=96: ebm 2.000 ms reaches 40.0% of the GEMM rate (target 70%)",
                "- exact-row-space at D=2048: ebm 1.000 ms is 20.00× the peer but holds 0.60× its peak "
                + "memory (target ≤ 0.25×)",
                "- exact-per-dimension at D=16: ebm 0.800 ms vs torch-2.11-eager-cuda-fp32 forward-laplacian "
                + "2.000 ms = 2.50× (target 3×); ebm's step reaches 1.5% of the GEMM rate, far from GEMM-bound");

        // the same peers against a tf32 run: only the tf32 row matches
        Settings tf32 = s.withBackend(BackendKind.CUDA, "tf32");
        Line tf = lineFor(TracePeers.lines(tf32, rows, peers, GEMM_RATE), "exact-per-dimension", 16);
        assertEquals(0.1 / 0.8, tf.speedup(), 1e-12);
        // and against the CPU backend none match (the peer ran on cuda)
        Settings cpu = Settings.defaults(true).with(List.of(16), H, 3, 256, null, null, null);
        assertEquals(Status.NO_PEER, lineFor(TracePeers.lines(cpu, rows, peers, GEMM_RATE), "hutchinson-1", 16).status());
    }

    @Test
    void targetRegionsFollowTheHiddenWidth() {
        assertEquals("≥3× peer (overhead-bound, D ≤ 64)", TracePeers.target("exact-row-space", 64, 512).text());
        assertEquals("≥70% of GEMM rate (GEMM-bound, 64 < D ≤ H₁)", TracePeers.target("exact-row-space", 65, 512).text());
        assertEquals("≥70% of GEMM rate (GEMM-bound, 64 < D ≤ H₁)", TracePeers.target("exact-per-dimension", 512, 512).text());
        assertEquals(TracePeers.Kind.NONE, TracePeers.target("exact-row-space", 1023, 512).kind());
        assertEquals("≥3× peer (row-space, D ≥ 2H₁)", TracePeers.target("exact-row-space", 1024, 512).text());
        assertEquals("≥3× peer (row-space, D ≥ 2H₁)", TracePeers.target("exact-row-space", 4095, 512).text());
        assertEquals("≥10× peer, memory ≤ 0.25× peer (row-space, D ≥ 8H₁)", TracePeers.target("exact-row-space", 4096, 512).text());
        assertEquals("≥5× peer (estimator, launch-bound in eager)", TracePeers.target("sliced-4", 4096, 512).text());
        assertEquals("≥5× peer (estimator, launch-bound in eager)", TracePeers.target("denoising", 2, 512).text());
        // a narrow model: the overhead-bound rule comes first, then the row-space ones
        assertEquals("≥3× peer (overhead-bound, D ≤ 64)", TracePeers.target("exact-row-space", 64, 16).text());
        assertEquals("≥10× peer, memory ≤ 0.25× peer (row-space, D ≥ 8H₁)", TracePeers.target("exact-row-space", 128, 16).text());
    }

    @Test
    void badPeerFilesAreErrorsNamingTheFileAndColumn() throws IOException {
        Path noMs = tmp.resolve("no-ms.csv");
        Files.writeString(noMs, "method,D,H,layers,batch,backend,variant,device,precision\nexact,16,128,3,256,t,dloop,cuda,fp32\n");
        EbmException e = assertThrows(EbmException.class, () -> TracePeers.read(List.of(noMs)));
        assertTrue(e.getMessage().startsWith(noMs + ": peer CSV has no column 'ms_per_step'"), e.getMessage());

        Path noVariant = tmp.resolve("kernels-peer.csv");
        Files.writeString(noVariant, "family,shape,backend,precision,ms,status\nadamw,n=1,t,fp32,1.0,ok\n");
        e = assertThrows(EbmException.class, () -> TracePeers.read(List.of(noVariant)));
        assertTrue(e.getMessage().contains("kernels-peer.csv: peer CSV has no column 'method'"), e.getMessage());

        Path badMs = peerFile("bad-ms.csv", peer("exact", 16, "dloop", "fp32", "fast", "", ""));
        e = assertThrows(EbmException.class, () -> TracePeers.read(List.of(badMs)));
        assertTrue(e.getMessage().contains("bad-ms.csv line 2: column ms_per_step is not a number >= 0: 'fast'"), e.getMessage());

        Path badD = peerFile("bad-d.csv", peer("exact", 16, "dloop", "fp32", "1.0", "", "").replaceFirst(",16,", ",sixteen,"));
        e = assertThrows(EbmException.class, () -> TracePeers.read(List.of(badD)));
        assertTrue(e.getMessage().contains("bad-d.csv line 2: column D is not an integer: 'sixteen'"), e.getMessage());

        Path empty = tmp.resolve("empty.csv");
        Files.writeString(empty, "");
        e = assertThrows(EbmException.class, () -> TracePeers.read(List.of(empty)));
        assertTrue(e.getMessage().contains("empty.csv: empty peer CSV"), e.getMessage());

        // on the command line: a one-line error before any row runs
        Cli r = Cli.run("bench", "trace", "--quick", "--peer", noMs.toString());
        assertEquals(2, r.exitCode(), r.out());
        assertTrue(r.err().strip().startsWith("ebm: " + noMs + ": peer CSV has no column 'ms_per_step'"), r.err());
        Cli missing = Cli.run("bench", "trace", "--quick", "--peer", tmp.resolve("nope.csv").toString());
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("cannot read peer results " + tmp.resolve("nope.csv")), missing.err());
    }

    @Test
    void theCommandWritesThePeerSection() throws IOException {
        Path f = peerFile("torch_trace.csv", String.join(",", "hutchinson-1", "2", "8", "1", "16", "torch-1.13-eager-cpu-fp64",
                "eager", "cpu", "fp64", "1000.0", "", ""));
        Path out = tmp.resolve("run");
        Cli r = Cli.run("bench", "trace", "--quick", "--dims", "2", "--hidden", "8", "--layers", "1", "--batch", "16",
                "--methods", "exact-row-space,hutchinson-1", "--budget", "0.1", "--draws", "2", "--peer", f.toString(),
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        String report = Files.readString(out.resolve("report.md"));
        System.out.println(report.substring(report.indexOf("## Peers")));
        TestTexts.assertContains(report,
                "## Peers: same steps in other frameworks",
                "| 2 | hutchinson-1 |",
                "| torch-1.13-eager-cpu-fp64 |",
                "| 2 | exact-row-space |",
                "no peer row");
        assertTrue(r.out().contains("**Against the peers.** The one judged row meets its target"), r.out());
    }

    /** The summary sentence for no judged row, one, all and some, and for one speed-up or several. */
    @Test
    void summaryReadsForNoneOneAndMany() {
        TracePeers.Target t = new TracePeers.Target(TracePeers.Kind.SPEEDUP, 3, 0, "overhead-bound");
        java.util.function.BiFunction<Status, Double, TracePeers.Line> line = (status, speedup) -> new TracePeers.Line(
                new Row("exact-row-space", 8, 16, 2, 32, 1, 10, 1, 1, false, 1, 0.1, 0, 0, 0, 0, 0, 0.5, 1, List.of(), ""),
                Double.isFinite(speedup) ? new TracePeers.Peer("exact", 8, 16, 2, 32, "torch", "eager", "cpu", "fp64", speedup, -1, "", 0) : null, speedup,
                Double.NaN, Double.NaN, t, status, "");
        String none = TracePeers.summary(List.of(line.apply(Status.NO_PEER, Double.NaN)), Settings.defaults(true));
        System.out.print(none);
        assertTrue(none.startsWith("**Against the peers.** No row could be judged against a target; 1 row has no peer row to compare with."), none);
        String one = TracePeers.summary(List.of(line.apply(Status.MISSED, 2.0)), Settings.defaults(true));
        System.out.print(one);
        assertTrue(one.startsWith("**Against the peers.** The one judged row misses its target; the speed-up is 2.00× (exact-row-space, D=8)."), one);
        String both = TracePeers.summary(List.of(line.apply(Status.MET, 4.0), line.apply(Status.MET, 5.0)), Settings.defaults(true));
        assertTrue(both.startsWith("**Against the peers.** Both judged rows meet their target; speed-ups run from 4.00×"), both);
        String some = TracePeers.summary(List.of(line.apply(Status.MET, 4.0), line.apply(Status.MISSED, 1.0),
                line.apply(Status.MISSED, 1.5), line.apply(Status.NO_PEER, Double.NaN), line.apply(Status.NO_PEER, Double.NaN)), Settings.defaults(true));
        System.out.print(some);
        assertTrue(some.startsWith("**Against the peers.** 1 of 3 judged rows meets its target; 2 rows have no peer row to compare with;"), some);
    }
}
