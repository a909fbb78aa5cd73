package ebm.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestTexts;
import ebm.bench.KernelBench.Row;
import ebm.config.BackendKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernel report's sentences, from small synthetic rows: none of a family, one row, several, failed rows. */
class KernelBenchReportTextTest {
    @TempDir
    Path tmp;

    private static Row adamw(long n, double ms) {
        return new Row("adamw", "n=" + n, BackendKind.CPU, "fp64", ms, 10, 56 * n, 0, 20, "copy", 0, 1e-12, "ok", "fp64 loop");
    }

    private static Row ns(int n, double ms, String status) {
        return new Row("muon-ns5", "n=" + n, BackendKind.CPU, "fp64", ms, 10, 0, 30L * n * n * n, 50, "gemm fp64", 1e-9, 1e-6,
                status, "fp64 reference");
    }

    private static String verdict(List<Row> rows) {
        String v = KernelBenchReport.verdict(rows, null, false);
        System.out.println(v);
        return v;
    }

    @Test
    void failedRowsAreCountedInTheHeading() {
        String one = verdict(List.of(ns(256, 1, "failed: error above tolerance")));
        assertTrue(one.startsWith("**Failed row** (not timed): muon-ns5 n=256 fp64 (failed: error above tolerance"), one);
        String two = verdict(List.of(ns(256, 1, "failed: a"), ns(512, 1, "failed: b")));
        assertTrue(two.startsWith("**Failed rows** (not timed): muon-ns5 n=256 fp64 (failed: a, error 1.00e-09 > 1e-06); muon-ns5 n=512"), two);
    }

    @Test
    void oneRowOfAFamilyReadsAsOne() {
        String v = verdict(List.of(adamw(1 << 20, 4), ns(1024, 1000, "ok")));
        TestTexts.assertContains(v,
                "At n=1048576, the one size run, it reaches",
                "Against the GEMM limit of the same precision the NS row (n=1024 fp64) reaches ");
        assertFalse(v.contains(" to ") && v.contains("the NS rows reach"), v);
        assertTrue(v.contains("**AdamW ≥ 3× the peer at 1M parameters.** n=1048576: not judged: no peer CSV (--peer) was given."), v);
    }

    @Test
    void severalRowsAndNone() {
        String v = verdict(List.of(adamw(1 << 10, 0.01), adamw(1 << 24, 60), ns(1024, 1000, "ok"), ns(4096, 50_000, "ok")));
        TestTexts.assertContains(v,
                "At the smallest size (n=1024) it reaches",
                "the NS rows reach 82% (n=4096 fp64) to 64% (n=1024 fp64)");
        String none = verdict(List.of());
        assertTrue(none.contains("Not measured: no AdamW row with n ≥ 16777216 ran.")
                && none.contains("Not measured: no NS row at n = 1024 or n ≥ 4096 ran."), none);
    }

    @Test
    void headerCountsAndEmptySizeLists() throws IOException {
        KernelBench.Settings s = new KernelBench.Settings(BackendKind.CPU, List.of(), List.of(1024), List.of(8), 16, 2, 32,
                List.of("fp64"), List.of("muon-ns5"), 1, 1, 4096, 1 << 20, 256, true, null);
        KernelBenchReport.write(tmp, s, new KernelBench.Result(List.of(ns(1024, 1000, "ok")), "test machine"), null, List.of());
        String md = Files.readString(tmp.resolve("report.md"));
        System.out.println(md);
        assertTrue(md.contains("Sizes run: AdamW none; Muon NS n = 1024; MLP (softplus, 2 hidden layers of 16, B = 32) D = 8; "
                + "precision fp64. Median of 1 repeat after 1 warm-up run;"), md);
    }
}
