package ebm.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every {@code extern "C" __global__} entry point of kernels/*.cu against its typed entry in DeviceKernels: one each,
 * the method named after the kernel in its file's section, the parameters in the C order with the C names in
 * camelCase and the Java type of each C type, and a body that marshals exactly those parameters in that order with
 * the right KernelArgs call. The unit cases below feed it wrong signatures, so it is known to fail when it should.
 */
class KernelSignaturesTest {
    private static final Path KERNELS = Path.of("kernels");
    private static final Path ENTRIES = Path.of("src/main/java/ebm/backend/cuda/kernels/DeviceKernels.java");

    @Test
    void everyKernelHasItsExactTypedEntry() throws IOException {
        List<KernelSignatures.CKernel> kernels = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> listing = Files.list(KERNELS)) {
            files = listing.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        for (Path file : files) kernels.addAll(KernelSignatures.parseC(file.getFileName().toString(), Files.readString(file)));
        List<KernelSignatures.JEntry> entries = KernelSignatures.parseJava(Files.readString(ENTRIES));
        KernelSignatures.Report report = KernelSignatures.compare(kernels, entries);
        System.out.printf("compared %d kernels (%d parameters) of %d files in %s with %d typed entries of %s%n",
                report.kernels(), report.parameters(), files.size(), KERNELS, report.entries(), ENTRIES.getFileName());
        report.problems().forEach(p -> System.out.println("  " + p));
        assertTrue(files.size() >= 12 && report.kernels() >= 42, "kernels/ read as " + files.size() + " files, " + report.kernels() + " kernels");
        assertEquals(List.of(), report.problems());
    }

    // ---- the comparison fails where it should ------------------------------------------------------------------

    private static final String C = """
            // a comment naming extern "C" __global__ void ebm_commented_out(int x) must not count
            extern "C" __global__ void ebm_scale_rows_f32(const float* x, long long n_rows,
                                                          float scale, int accumulate, float* out) {
                EBM_GRID_STRIDE(i, n_rows) out[i] = scale * x[i];
            }
            """;

    private static final String RIGHT = """
                // ---- toy.cu ---------
                public void scaleRowsF32(Grid grid, long x, long nRows, float scale, int accumulate, long out) {
                    launch(grid, "ebm_scale_rows_f32", args -> args.i64(x).i64(nRows).f32(scale)
                            .i32(accumulate).i64(out));
                }
            """;

    /** The problems of the toy kernel against a Java entry. */
    private static List<String> problems(String java) {
        List<String> problems = KernelSignatures.compare(KernelSignatures.parseC("toy.cu", C), KernelSignatures.parseJava(java))
                .problems();
        System.out.println(problems.isEmpty() ? "  (no problems)" : "  " + String.join("\n  ", problems));
        return problems;
    }

    private static void assertOneProblem(String java, String expected) {
        List<String> problems = problems(java);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains(expected), problems.get(0) + " should say " + expected);
    }

    @Test
    void theToyKernelParsesAndItsRightEntryPasses() {
        List<KernelSignatures.CKernel> parsed = KernelSignatures.parseC("toy.cu", C);
        assertEquals(1, parsed.size(), "the commented-out kernel must not count: " + parsed);
        assertEquals(List.of(new KernelSignatures.CParam("float*", "x"), new KernelSignatures.CParam("long long", "n_rows"),
                new KernelSignatures.CParam("float", "scale"), new KernelSignatures.CParam("int", "accumulate"),
                new KernelSignatures.CParam("float*", "out")), parsed.get(0).params());
        assertEquals(List.of(), problems(RIGHT));
    }

    @Test
    void aWrongJavaTypeFails() {
        assertOneProblem(RIGHT.replace("long nRows", "int nRows").replace(".i64(nRows)", ".i32(nRows)"),
                "is long long n_rows (a Java long), not int nRows");
    }

    @Test
    void aWrongMarshalFails() {
        assertOneProblem(RIGHT.replace(".i64(nRows)", ".i32(nRows)"), "nRows (long) is marshalled with .i32, not .i64");
    }

    @Test
    void swappedParametersFail() {
        List<String> problems = problems(RIGHT.replace("long x, long nRows", "long nRows, long x")
                .replace(".i64(x).i64(nRows)", ".i64(nRows).i64(x)"));
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("parameter 0 is x in C, so x in Java, not nRows"), problems.toString());
    }

    @Test
    void marshallingOutOfOrderFails() {
        List<String> problems = problems(RIGHT.replace(".f32(scale)", "@").replace(".i32(accumulate)", ".f32(scale)")
                .replace("@", ".i32(accumulate)"));
        assertEquals(4, problems.size(), "value 2 and 3: wrong name and wrong op each: " + problems);
    }

    @Test
    void aNameNotInCamelCaseFails() {
        assertOneProblem(RIGHT.replace("nRows", "n_rows"), "is n_rows in C, so nRows in Java, not n_rows");
    }

    @Test
    void aMissingOrExtraParameterFails() {
        List<String> missing = problems(RIGHT.replace(", long out)", ")").replace(".i64(out)", ""));
        assertTrue(missing.get(0).contains("5 C parameters, 4 Java parameters"), missing.toString());
        List<String> unmarshalled = problems(RIGHT.replace(".i64(out)", ""));
        assertEquals(List.of("ebm_scale_rows_f32 (toy.cu) ~ scaleRowsF32: marshals 4 values for 5 parameters"), unmarshalled);
    }

    @Test
    void aKernelWithoutEntryAndAnEntryWithoutKernelFail() {
        List<String> problems = problems(RIGHT.replace("ebm_scale_rows_f32", "ebm_scale_row_f32"));
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("ebm_scale_rows_f32 (toy.cu) has no typed entry"), problems.toString());
        assertTrue(problems.get(1).contains("launches ebm_scale_row_f32, which no kernels/*.cu declares"), problems.toString());
    }

    @Test
    void aMisnamedOrMisplacedEntryFails() {
        assertOneProblem(RIGHT.replace("scaleRowsF32", "scaleRows"), "should be named scaleRowsF32");
        assertOneProblem(RIGHT.replace("toy.cu", "other.cu"), "sits in the other.cu section, not toy.cu's");
    }

    @Test
    void anEntryMustLaunchOnItsGridAndDoNothingElse() {
        assertOneProblem(RIGHT.replace("launch(grid,", "launch(Grid.over(nRows),"), "the body is not the one statement");
        assertOneProblem(RIGHT.replace("        launch(grid,", "        nRows++;\n        launch(grid,"), "the body is not the one statement");
        assertOneProblem(RIGHT.replace("Grid grid, ", "Grid g, "), "launches on grid, not its Grid parameter g");
    }

    @Test
    void aLaunchOutsideATypedEntryFails() {
        String stray = RIGHT + """
                    public void scaleAll(long x, long n) {
                        launch(Grid.over(n), "ebm_scale_rows_f32", args -> args.i64(x).i64(n));
                    }
                """;
        assertOneProblem(stray, "scaleAll launches a kernel but takes no Grid first");
    }

    @Test
    void aCTypeWithoutJavaTypeFails() {
        String byValue = C.replace("float scale", "Scalars scale");
        List<String> problems = KernelSignatures.compare(KernelSignatures.parseC("toy.cu", byValue),
                KernelSignatures.parseJava(RIGHT)).problems();
        System.out.println("  " + problems);
        assertEquals(List.of("ebm_scale_rows_f32 (toy.cu) ~ scaleRowsF32: parameter 2 (Scalars scale) has no Java type"), problems);
    }

    @Test
    void namesAndTypesMapAsDocumented() {
        assertEquals("expAvgSq", KernelSignatures.camel("exp_avg_sq"));
        assertEquals("g0", KernelSignatures.camel("g0"));
        assertEquals("adamwStepF32", KernelSignatures.methodName("ebm_adamw_step_f32"));
        assertEquals("long", KernelSignatures.javaType("PhiloxKeyInDevice*"));
        assertEquals("int", KernelSignatures.javaType("uint32_t"));
        assertEquals("f64", KernelSignatures.marshalOf(KernelSignatures.javaType("double")));
    }
}
