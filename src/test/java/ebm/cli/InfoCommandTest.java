package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.backend.cuda.bindings.CudaLibraries;
import java.nio.file.Path;
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
        for (String key : new String[] {"java:", "java heap:", "cpu threads:", "host kernels:", "gpu kernels:", "libcuda.so.1:", "cuda driver:", "gpu:",
                "libcublas.so.13:", "gpu backend:"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(key)), key + " missing from:\n" + r.out());
        }
        assertTrue(r.out().contains("libcuda.so.1:      not found (looked in: $EBM_LIBCUDA (unset), the dynamic loader's search"), r.out());
        assertTrue(r.out().contains("cuda driver:       n/a (no libcuda.so.1)"), r.out());
        assertTrue(r.out().contains("libcublas.so.13:   not found (looked in: "), r.out());
        assertTrue(r.out().contains("gpu backend:       unavailable: no GPU"), r.out());
        assertTrue(r.out().contains("cpu threads:       " + Runtime.getRuntime().availableProcessors()), r.out());
    }

    @Test
    void theHeapLineSaysTheMaximumAndHowTheLauncherChoseIt() {
        long mib = Runtime.getRuntime().maxMemory() >> 20;
        String before = System.getProperty("ebm.heap");
        try {
            System.clearProperty("ebm.heap");
            Cli plain = Cli.run("info");
            assertTrue(plain.out().contains("(" + mib + " MiB; the JVM's default)"), plain.out());
            System.setProperty("ebm.heap", "-Xmx300m from EBM_HEAP=300m");
            Cli bundle = Cli.run("info");
            assertTrue(bundle.out().lines().anyMatch(l -> l.startsWith("java heap:") && l.endsWith("(" + mib + " MiB; -Xmx300m from EBM_HEAP=300m)")),
                    bundle.out());
        } finally {
            if (before == null) System.clearProperty("ebm.heap");
            else System.setProperty("ebm.heap", before);
        }
    }

    @Test
    void aLibraryFoundThroughALinkNamesTheFileToo() {
        CudaLibraries.Location link = new CudaLibraries.Location("libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1",
                Path.of("/usr/local/nvidia/lib64/libcuda.so.580.95.05"), null, null);
        assertEquals("/usr/local/nvidia/lib64/libcuda.so.1; file /usr/local/nvidia/lib64/libcuda.so.580.95.05", InfoCommand.found(link));
        CudaLibraries.Location plain = new CudaLibraries.Location("libcublas.so.13", "/x/libcublas.so.13 (from EBM_LIBCUBLAS)",
                Path.of("/x/libcublas.so.13"), null, null);
        assertEquals("/x/libcublas.so.13 (from EBM_LIBCUBLAS)", InfoCommand.found(plain));
        CudaLibraries.Location unknown = new CudaLibraries.Location("libcuda.so.1", "libcuda.so.1 (found by the dynamic loader)", null, null, null);
        assertEquals("libcuda.so.1 (found by the dynamic loader)", InfoCommand.found(unknown));
    }
}
