package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.bindings.CudaLibraries;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class InfoCommandTest {
    @Test
    void withoutAGpuEveryLineIsPrintedAndTheExitIsZero() {
        Assumptions.assumeFalse(CudaLibraries.system().cuda().found(), "libcuda.so.1 is present here");
        Cli r = Cli.run("info");
        System.out.print(r.out());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().isBlank(), r.err());
        for (String key : new String[] {"java:", "cpu threads:", "host kernels:", "gpu kernels:", "libcuda.so.1:", "cuda driver:", "gpu:",
                "libcublas.so.13:", "gpu backend:"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(key)), key + " missing from:\n" + r.out());
        }
        assertTrue(r.out().contains("libcuda.so.1:      not found (looked in: $EBM_LIBCUDA (unset), the dynamic loader's search"), r.out());
        assertTrue(r.out().contains("cuda driver:       n/a (no libcuda.so.1)"), r.out());
        assertTrue(r.out().contains("libcublas.so.13:   not found (looked in: "), r.out());
        assertTrue(r.out().contains("gpu backend:       unavailable: no GPU"), r.out());
        assertTrue(r.out().contains("cpu threads:       " + Runtime.getRuntime().availableProcessors()), r.out());
    }
}
