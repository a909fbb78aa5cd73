package ebm.backend.cuda.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library search: its order, the override, and the one-line message when nothing is found. */
class CudaLibrariesTest {

    /** A real shared library to stand in for libcuda (the C library every JVM process has loaded). */
    private static Optional<Path> libc() {
        for (String p : List.of("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6", "/lib64/libc.so.6")) {
            if (Files.isRegularFile(Path.of(p))) return Optional.of(Path.of(p));
        }
        return Optional.empty();
    }

    @Test
    void nothingFoundIsOneLineListingEveryPlaceAndTheCpuBackend(@TempDir Path tmp) {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        CudaLibraries search = new CudaLibraries(Map.of(), List.of(a, b, a), false);
        CudaLibraries.Location cuda = search.cuda();
        assertFalse(cuda.found());
        assertNull(cuda.where());
        String message = cuda.problem();
        System.out.println(message);
        assertTrue(message.startsWith("libcuda.so.1 not found (looked in: $EBM_LIBCUDA (unset), " + a + ", " + b + ")"), message);
        assertEquals(1, message.split(a.toString(), -1).length - 1, "each folder listed once: " + message);
        assertTrue(message.contains("set EBM_LIBCUDA to its path"), message);
        assertTrue(message.endsWith("the CPU backend (backend: cpu) works without a GPU"), message);
        assertFalse(message.contains("\n"));
        EbmException e = assertThrows(EbmException.class, cuda::require);
        assertEquals(message, e.getMessage());
        assertTrue(search.cublas().problem().startsWith("libcublas.so.13 not found (looked in: $EBM_LIBCUBLAS (unset), "));
    }

    @Test
    void loaderSearchIsListedWhenUsed(@TempDir Path tmp) {
        CudaLibraries search = new CudaLibraries(Map.of(), List.of(tmp), true);
        CudaLibraries.Location location = search.cublas(); // no machine here has cuBLAS on the loader's path but a GPU one
        Assumptions.assumeFalse(location.found(), "this machine has libcublas.so.13 on the loader's path");
        assertTrue(location.problem().contains("the dynamic loader's search (LD_LIBRARY_PATH, /etc/ld.so.cache), " + tmp), location.problem());
    }

    @Test
    void overrideThatIsNotAFileIsAnErrorNotAFallback(@TempDir Path tmp) {
        Path missing = tmp.resolve("nowhere/libcuda.so.1");
        CudaLibraries search = new CudaLibraries(Map.of("EBM_LIBCUDA", missing.toString()), List.of(tmp), true);
        CudaLibraries.Location cuda = search.cuda();
        assertFalse(cuda.found());
        assertTrue(cuda.problem().startsWith("EBM_LIBCUDA=" + missing + " is not a file (unset EBM_LIBCUDA to search the standard places)"), cuda.problem());
        assertTrue(cuda.problem().endsWith("the CPU backend (backend: cpu) works without a GPU"), cuda.problem());
    }

    @Test
    void overrideIsLoadedAndNamedAsTheSource() {
        Path stand = libc().orElse(null);
        Assumptions.assumeTrue(stand != null, "no libc.so.6 at a standard path");
        CudaLibraries search = new CudaLibraries(Map.of("EBM_LIBCUBLAS", stand.toString()), List.of(), false);
        CudaLibraries.Location cublas = search.cublas();
        assertTrue(cublas.found(), String.valueOf(cublas.problem()));
        assertEquals(stand + " (from EBM_LIBCUBLAS)", cublas.where());
        assertTrue(cublas.symbols().find("strlen").isPresent());
        assertFalse(search.cuda().found(), "the other library is searched on its own");
    }

    @Test
    void installFoldersAreSearchedInOrder(@TempDir Path tmp) throws Exception {
        Path stand = libc().orElse(null);
        Assumptions.assumeTrue(stand != null, "no libc.so.6 at a standard path");
        Path first = Files.createDirectories(tmp.resolve("first")), second = Files.createDirectories(tmp.resolve("second"));
        Files.createSymbolicLink(second.resolve("libcuda.so.1"), stand);
        CudaLibraries.Location cuda = new CudaLibraries(Map.of(), List.of(first, second), false).cuda();
        assertTrue(cuda.found(), String.valueOf(cuda.problem()));
        assertEquals(second.resolve("libcuda.so.1").toString(), cuda.where());
    }

    @Test
    void fileThatDoesNotLoadIsReported(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("libcuda.so.1"), "not an ELF file");
        CudaLibraries.Location cuda = new CudaLibraries(Map.of(), List.of(tmp), false).cuda();
        assertFalse(cuda.found());
        assertTrue(cuda.problem().contains(tmp.resolve("libcuda.so.1") + " exists but did not load"), cuda.problem());
    }

    @Test
    void standardFoldersIncludeCudaHome() {
        List<Path> dirs = CudaLibraries.standardDirectories(Map.of("CUDA_HOME", "/opt/cuda-x"));
        assertEquals(Path.of("/usr/lib/x86_64-linux-gnu"), dirs.getFirst());
        assertTrue(dirs.contains(Path.of("/usr/local/cuda/targets/x86_64-linux/lib")), dirs.toString());
        assertEquals(List.of(Path.of("/opt/cuda-x/lib64"), Path.of("/opt/cuda-x/targets/x86_64-linux/lib")),
                dirs.subList(dirs.size() - 2, dirs.size()));
    }
}
