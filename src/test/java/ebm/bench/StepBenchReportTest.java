package ebm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.TestTexts;
import ebm.bench.StepBench.GemmShape;
import ebm.bench.StepBench.Row;
import ebm.bench.StepBench.Shape;
import ebm.bench.StepBenchReport.Limit;
import ebm.bench.StepBenchReport.Result;
import ebm.bench.TracePeers.Peer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `bench step`: the GEMM shapes a step issues, the peer each row meets, its targets, the limits and the misses. */
class StepBenchReportTest {
    @TempDir
    Path tmp;

    private static final Shape D64 = new Shape(64, 256, 3);
    private static final String BLAS = "openblas 0.3.21 pthreads Cooperlake";

    private static Row row(String method, Shape shape, double ms, double gflop) {
        return new Row(method, shape, 256, ms, 0.9 * ms, 1.2 * ms, 10, gflop, 50_000_000L, false);
    }

    private static Peer torch(String method, Shape shape, String variant, int threads, double ms) {
        return new Peer(method, shape.dim(), shape.hidden(), shape.layers(), 256, "torch-1.13-eager-cpu-fp64-" + threads + "thread",
                variant, "cpu", "fp64", ms, -1, BLAS, threads);
    }

    private static Result result(List<Row> rows, List<Peer> peers) {
        Map<GemmShape, Double> ebm = new LinkedHashMap<>();
        ebm.put(GemmShape.SQUARE_1024, 100.0);
        ebm.put(new GemmShape(256 * 64, 256, 256, "NT"), 80.0);
        List<Limit> blas = List.of(new Limit(GemmShape.SQUARE_1024, 2, 125.0, BLAS));
        return new Result("Test CPU, 2 threads", 256, 1, rows, ebm, blas, peers, 20.0);
    }

    @Test
    void theStepsGemmShapesAreTheDirectionsPropagationAndTheWeightGradient() {
        List<GemmShape> shapes = StepBench.gemmShapes(List.of(D64, new Shape(512, 128, 3)),
                List.of("exact-per-dimension", "exact-row-space", "hutchinson-1", "denoising"), 256);
        System.out.println("gemm shapes: " + shapes);
        assertEquals(GemmShape.SQUARE_1024, shapes.getFirst());
        assertTrue(shapes.contains(new GemmShape(16384, 256, 256, "NT")), "D=64 per-dimension: (B·D)×H×H");
        assertTrue(shapes.contains(new GemmShape(256, 256, 16384, "TN")), "its weight gradient");
        assertTrue(shapes.contains(new GemmShape(256 * 128, 128, 128, "NT")), "D=512 row-space: H₁ = 128 directions");
        assertTrue(shapes.contains(new GemmShape(256 * 512, 128, 128, "NT")), "D=512 per-dimension: 512 directions");
        assertEquals(shapes.size(), shapes.stream().distinct().count(), "no shape twice (D=64 row-space = per-dimension)");
        assertEquals(3, StepBench.directions("sliced-3", D64));
        assertThrows(EbmException.class, () -> StepBench.directions("exact-sideways", D64));
    }

    @Test
    void perDimensionMeetsTheForwardLaplacianAndRowSpaceTheFastestExactRow() {
        List<Peer> peers = List.of(torch("exact", D64, "forward-laplacian", 1, 600), torch("exact", D64, "vmap-hvp", 2, 500),
                torch("exact", D64, "dloop", 1, 2600), torch("hutchinson-1", D64, "eager", 1, 40),
                torch("hutchinson-1", D64, "forward-directional", 2, 30));
        Row perDim = row("exact-per-dimension", D64, 150, 13.3), rowSpace = row("exact-row-space", D64, 150, 13.3);
        Row hutch = row("hutchinson-1", D64, 10, 0.865);
        assertEquals("forward-laplacian", StepBenchReport.fastestPeer(peers, perDim, StepBenchReport.target(perDim).peerVariant())
                .orElseThrow().variant(), "the same algorithm, not a faster different one");
        assertEquals("vmap-hvp", StepBenchReport.fastestPeer(peers, rowSpace, StepBenchReport.target(rowSpace).peerVariant())
                .orElseThrow().variant());
        assertEquals("forward-directional", StepBenchReport.fastestPeer(peers, hutch, null).orElseThrow().variant());
        String md = StepBenchReport.markdown(result(List.of(perDim, rowSpace, hutch), peers));
        System.out.println(md);
        // per-dimension: 600/150 = 4× ≥ 3×, 13.3 GFLOP in 150 ms = 88.7 GFLOP/s = 71% of 125 ≥ 60%: met
        TestTexts.assertContains(md, "Test CPU, 2 threads", "BLAS " + BLAS, "dgemm 125.0 GFLOP/s (2 threads)",
                "| D=64 H=256x3 | exact-per-dimension | 150.00 | 135.00–180.00 | 13.300 | 88.7 | 89% | 71% | forward-laplacian, 1 thr | 600.00 | 4.00× | ≥3× torch forward-laplacian, ≥60% of dgemm | met |",
                // row-space: 500/150 = 3.33×: met
                "| vmap-hvp, 2 thr | 500.00 | 3.33× | ≥3× fastest torch row, ≥60% of dgemm | met |",
                // hutchinson: 30/10 = 3× ≥ 2×, but 86.5 GFLOP/s = 69% ≥ 50%: met
                "| forward-directional, 2 thr | 30.00 | 3.00× | ≥2× fastest torch row, ≥50% of dgemm | met |",
                "| 16384x256x256:NT | 80.0 | — |");
        assertFalse(md.contains("What bounds the misses"), "no miss, no section");
    }

    @Test
    void aMissSaysByHowMuchAndWhatBoundsIt() {
        Row slow = row("denoising", D64, 20, 0.445);
        String md = StepBenchReport.markdown(result(List.of(slow), List.of(torch("denoising", D64, "eager", 1, 30))));
        System.out.println(md);
        // 30/20 = 1.5× < 2× (25% short); 0.445 GFLOP in 20 ms = 22.25 GFLOP/s = 18% < 50% of 125
        TestTexts.assertContains(md, "missed: 1.50× < 2× (25% short); 18% < 50% of dgemm", "## What bounds the misses",
                // GEMM floor at 1024³ (its main shape 256x256x256 was not measured): 0.445/100 = 4.45 ms; tape 50 MB at 20 GB/s = 2.5 ms
                "take 4.45 ms (22%)", "the tape's 50.0 MB per step, written once at 20.0 GB/s, take 2.50 ms (13%)",
                "the other 13.05 ms (65%)",
                // 2× the peer allows 15 ms; 0.445 GFLOP at the highest measured rate (125) is 3.56 ms
                "2× the peer allows 15.00 ms; the GEMMs alone at the highest rate measured in this run (125.0 GFLOP/s) "
                        + "take 3.56 ms, so 11.44 ms are left for everything else (now 16.44 ms)");
    }

    @Test
    void aRowAboveEveryMeasuredLimitIsReTimedAndFlagged() {
        Row r = StepBench.run("denoising", new Shape(2, 8, 1), 16, 0.01, 0.0); // no rate is ≤ 0 GFLOP/s
        System.out.println("flagged row: " + r);
        assertTrue(r.exceedsLimit());
        String md = StepBenchReport.markdown(result(List.of(r), List.of()));
        TestTexts.assertContains(md, "time impossible: its GEMMs would run above every measured limit", "no peer row");
        Row fine = StepBench.run("denoising", new Shape(2, 8, 1), 16, 0.01, Double.MAX_VALUE);
        assertFalse(fine.exceedsLimit());
        assertTrue(fine.msMin() <= fine.msPerStep() && fine.msPerStep() <= fine.msMax(), "the spread holds the median");
    }

    @Test
    void theStepsProductsAreTimedInTheChunksTheStepRunsThem() {
        int[] chunks = ebm.objective.Objective.cpuGradientChunkRows(256);
        System.out.println("chunks of a B=256 gradient: " + java.util.Arrays.toString(chunks));
        assertEquals(256, java.util.Arrays.stream(chunks).sum());
        assertTrue(chunks.length >= 2, "two halves of the noise split at least");
        for (GemmShape g : List.of(new GemmShape(256 * 2, 16, 16, "NT"), new GemmShape(16, 16, 256 * 2, "TN"))) {
            double rate = StepBench.stepGemmRate(g, 256);
            System.out.printf("%s as the step runs it: %.2f GFLOP/s%n", g, rate);
            assertTrue(rate > 0 && Double.isFinite(rate));
        }
    }

    @Test
    void theDgemmFileKeepsTheFastestThreadCountAndBadFilesAreNamed() throws IOException {
        Path f = tmp.resolve("dgemm.csv");
        Files.writeString(f, "m,n,k,trans,threads,gflops,blas\n1024,1024,1024,NN,1,60.5," + BLAS + "\n1024,1024,1024,NN,2,110.25," + BLAS + "\n");
        List<Limit> limits = StepBenchReport.readLimits(List.of(f));
        System.out.println("limits: " + limits);
        assertEquals(List.of(new Limit(GemmShape.SQUARE_1024, 2, 110.25, BLAS)), limits);
        Files.writeString(f, "m,n,k,threads,gflops\n1,1,1,1,1\n");
        EbmException e = assertThrows(EbmException.class, () -> StepBenchReport.readLimits(List.of(f)));
        TestTexts.assertContains(e.getMessage(), "dgemm.csv", "no column 'trans'");
        Files.writeString(f, "m,n,k,trans,threads,gflops\n1024,x,1024,NN,1,3\n");
        e = assertThrows(EbmException.class, () -> StepBenchReport.readLimits(List.of(f)));
        TestTexts.assertContains(e.getMessage(), "dgemm.csv line 2", "not a number");
    }
}
