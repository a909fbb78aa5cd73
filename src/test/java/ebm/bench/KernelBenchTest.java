package ebm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.backend.cuda.runtime.HostKernelLibrary;
import ebm.cli.Cli;
import ebm.config.BackendKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ebm bench kernels --quick` on the CPU and through the host build of the CUDA path: columns, validation, failures. */
class KernelBenchTest {
    @TempDir
    Path tmp;

    /** results.csv as header + rows of fields. */
    private record Csv(List<String> header, List<String[]> rows) {
        static Csv read(Path file) throws IOException {
            List<String> lines = Files.readAllLines(file);
            List<String[]> rows = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) rows.add(line.split(",", -1));
            return new Csv(Arrays.asList(lines.getFirst().split(",", -1)), rows);
        }

        String get(String[] row, String column) {
            int i = header.indexOf(column);
            if (i < 0) throw new AssertionError("no column " + column);
            return row[i];
        }
    }

    /** Every column present, every family and both limits measured, every row validated within tolerance and timed. */
    private static void checkQuickRun(Path out, String backend) throws IOException {
        Csv csv = Csv.read(out.resolve("results.csv"));
        System.out.println(backend + " results.csv: " + csv.header() + ", " + csv.rows().size() + " rows");
        assertEquals(KernelBenchReport.COLUMNS, csv.header());
        Set<String> families = new TreeSet<>();
        for (String[] row : csv.rows()) {
            String family = csv.get(row, "family");
            families.add(family);
            double error = Double.parseDouble(csv.get(row, "validation_error"));
            double tolerance = Double.parseDouble(csv.get(row, "tolerance"));
            double ms = Double.parseDouble(csv.get(row, "ms"));
            double share = Double.parseDouble(csv.get(row, "share_of_limit"));
            System.out.printf("  %-11s %-28s %-5s error %.2e <= %.0e, %.4f ms, share %.3f%n", family, csv.get(row, "shape"),
                    csv.get(row, "precision"), error, tolerance, ms, share);
            assertEquals("ok", csv.get(row, "status"), String.join(",", row));
            assertEquals(backend, csv.get(row, "backend"));
            assertTrue(error <= tolerance, "validation error " + error + " over " + tolerance + ": " + String.join(",", row));
            assertTrue(ms > 0 && share > 0 && Double.isFinite(share), String.join(",", row));
            boolean bandwidth = Long.parseLong(csv.get(row, "bytes")) > 0;
            assertNotEquals(bandwidth, Long.parseLong(csv.get(row, "flops")) > 0, "bytes or flops, not both: " + String.join(",", row));
            assertEquals(bandwidth ? "GB/s" : "GFLOP/s", csv.get(row, "unit"));
        }
        assertEquals(new TreeSet<>(List.of("limit-copy", "limit-gemm", "adamw", "muon-ns5", "forward", "exact-trace")), families);
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("## Results") && report.contains("## Targets") && report.contains("**AdamW ≥ 90% of copy bandwidth"), report);
    }

    @Test
    void cpuQuickRunValidatesEveryRowAndWritesTheColumns() throws IOException {
        Path out = tmp.resolve("cpu");
        Cli r = Cli.run("bench", "kernels", "--quick", "--repeats", "2", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        checkQuickRun(out, "cpu");
    }

    @Test
    void emulatedQuickRunValidatesEveryRowAgainstTheCpuReference() throws IOException {
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
        Path out = tmp.resolve("emulated");
        Cli r = Cli.run("bench", "kernels", "--quick", "--backend", "cuda-emulated", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        checkQuickRun(out, "cuda-emulated");
        // Above nsDenseMax (64 in --quick) the known-answer input is used; at or below it the fp64 CPU Muon.
        Csv csv = Csv.read(out.resolve("results.csv"));
        Set<String> against = new TreeSet<>();
        for (String[] row : csv.rows()) if (csv.get(row, "family").equals("muon-ns5")) against.add(csv.get(row, "validated_against"));
        System.out.println("muon-ns5 validated against: " + against);
        assertEquals(1, against.size(), "both n in --quick are <= 64: " + against);
        Cli larger = Cli.run("bench", "kernels", "--quick", "--backend", "cuda-emulated", "--families", "muon-ns5",
                "--ns-sizes", "96", "--precisions", "fp32", "--out", tmp.resolve("known").toString());
        assertEquals(0, larger.exitCode(), larger.err());
        assertTrue(Files.readString(tmp.resolve("known/results.csv")).contains("known answer"));
    }

    /** A wrong result (injected through the test seam) is reported failed and not timed, on both backends. */
    @Test
    void aFailedValidationIsReportedFailedAndNotTimed() throws IOException {
        List<BackendKind> backends = HostKernelLibrary.skippedForMissingCompiler() ? List.of(BackendKind.CPU)
                : List.of(BackendKind.CPU, BackendKind.CUDA_EMULATED);
        for (BackendKind backend : backends) {
            for (String family : List.of("adamw", "muon-ns5", "forward", "exact-trace", KernelBench.GEMM, KernelBench.COPY)) {
                KernelBench.Settings settings = KernelBench.Settings.defaults(backend, true)
                        .with(List.of(4096L), List.of(16), List.of(3), 8, 2, 8, null, List.of(family.startsWith("limit") ? "adamw" : family), 0, 1)
                        .withFault(family);
                KernelBench.Result result = KernelBench.run(settings, line -> {});
                List<KernelBench.Row> hit = result.rows().stream().filter(row -> row.family().equals(family)).toList();
                assertTrue(!hit.isEmpty(), family);
                for (KernelBench.Row row : hit) {
                    System.out.printf("%s %s %s %s: status %s, error %.3g (tolerance %.1g), ms %s%n", backend, family, row.shape(),
                            row.precision(), row.status(), row.validationError(), row.tolerance(), row.ms());
                    assertEquals("failed", row.status());
                    assertTrue(Double.isNaN(row.ms()) && row.reps() == 0);
                    assertTrue(row.validationError() > row.tolerance());
                }
                Path out = tmp.resolve(backend + "-" + family);
                KernelBenchReport.write(out, settings, result, null, List.of());
                long failed = result.rows().stream().filter(row -> !row.ok()).count();
                assertTrue(Files.readString(out.resolve("report.md")).contains(failed == 1 ? "**Failed row** (not timed)" : "**Failed rows** (not timed)"));
                Csv csv = Csv.read(out.resolve("results.csv"));
                for (String[] row : csv.rows()) {
                    if (!csv.get(row, "family").equals(family)) continue;
                    assertEquals("failed", csv.get(row, "status"));
                    assertEquals("", csv.get(row, "ms"));
                }
            }
        }
        Cli r = Cli.run("bench", "kernels", "--quick", "--families", "adamw", "--sizes", "64K", "--repeats", "1");
        assertEquals(0, r.exitCode(), "the same run without a fault passes: " + r.err());
    }

    @Test
    void aPeerCsvAddsRatioColumnsAndJudgesTheTargets() throws IOException {
        Path peer = tmp.resolve("peer.csv");
        // A peer 10x slower than anything here at AdamW 1M: the ratio column and the "met" verdict must follow from it.
        Files.writeString(peer, String.join(",", KernelBenchReport.COLUMNS) + "\n"
                + "adamw,n=1048576,torch-fused,fp64,1000.0,5,58720256,0,0.06,GB/s,,,,0,0,ok,\n"
                + "adamw,n=1048576,torch-foreach,fp64,2000.0,5,58720256,0,0.03,GB/s,,,,0,0,ok,\n"
                + "adamw,n=65536,torch-fused,fp64,,0,0,0,,GB/s,,,,,,failed,\n");
        Path out = tmp.resolve("with-peer");
        Cli r = Cli.run("bench", "kernels", "--quick", "--families", "adamw", "--repeats", "2", "--peer", peer.toString(),
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        Csv csv = Csv.read(out.resolve("results.csv"));
        assertTrue(csv.header().containsAll(KernelBenchReport.PEER_COLUMNS), csv.header().toString());
        for (String[] row : csv.rows()) {
            String shape = csv.get(row, "shape");
            if (!csv.get(row, "family").equals("adamw")) continue;
            if (shape.equals("n=1048576")) {
                double ms = Double.parseDouble(csv.get(row, "ms"));
                assertEquals("torch-fused", csv.get(row, "peer_backend"), "the fastest peer row counts");
                assertEquals(1000.0 / ms, Double.parseDouble(csv.get(row, "speedup_vs_peer")), 1e-3 * 1000.0 / ms);
            } else {
                assertEquals("", csv.get(row, "speedup_vs_peer"), "a failed peer row is no peer: " + shape);
            }
        }
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("**AdamW ≥ 3× the peer at 1M parameters.** n=1048576: met"), report);
    }

    @Test
    void badOptionsAreOneLineErrors() {
        assertEquals(1L << 20, KernelBench.parseCount("1M"));
        assertEquals(65536, KernelBench.parseCount("64K"));
        assertThrows(EbmException.class, () -> KernelBench.parseCount("1.5M"));
        Cli r = Cli.run("bench", "kernels", "--quick", "--precisions", "bf16");
        assertNotEquals(0, r.exitCode());
        assertTrue(r.err().contains("--precisions bf16: backend cpu offers fp64"), r.err());
        Cli f = Cli.run("bench", "kernels", "--quick", "--families", "sgd");
        assertTrue(f.exitCode() != 0 && f.err().contains("unknown --families entry 'sgd'"), f.err());
    }
}
