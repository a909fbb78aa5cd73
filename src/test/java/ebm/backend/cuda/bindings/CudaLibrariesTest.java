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

    /** A fake filesystem root with a libc stand-in at each relative path given. */
    private static Path fakeRoot(Path tmp, Path stand, String... libraries) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        for (String lib : libraries) {
            Path f = root.resolve(lib);
            Files.createDirectories(f.getParent());
            Files.createSymbolicLink(f, stand);
        }
        return root;
    }

    @Test
    void cublasIsFoundWherePytorchsCuda13WheelsPutIt(@TempDir Path tmp) throws Exception {
        Path stand = libc().orElse(null);
        Assumptions.assumeTrue(stand != null, "no libc.so.6 at a standard path");
        Path root = fakeRoot(tmp, stand, "opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13");
        Files.createDirectories(root.resolve("opt/torch/.venv/lib/python3.9/site-packages"));
        List<Path> dirs = CudaLibraries.cublasDirectories(Map.of(), root);
        // after the standard folders; the newest Python first; both wheel layouts per environment
        assertEquals(CudaLibraries.standardDirectories(Map.of()), dirs.subList(0, CudaLibraries.standardDirectories(Map.of()).size()));
        Path py312 = root.resolve("opt/torch/.venv/lib/python3.12/site-packages"), py39 = root.resolve("opt/torch/.venv/lib/python3.9/site-packages");
        List<Path> pip = dirs.subList(dirs.size() - 4, dirs.size());
        assertEquals(List.of(py312.resolve("nvidia/cu13/lib"), py312.resolve("nvidia/cublas/lib"), py39.resolve("nvidia/cu13/lib"),
                py39.resolve("nvidia/cublas/lib")), pip);

        CudaLibraries search = new CudaLibraries(Map.of(), CudaLibraries.driverDirectories(Map.of(), root), dirs, false);
        CudaLibraries.Location cublas = search.cublas();
        assertTrue(cublas.found(), String.valueOf(cublas.problem()));
        assertEquals(py312.resolve("nvidia/cu13/lib/libcublas.so.13").toString(), cublas.where());
        assertEquals(stand.toRealPath(), cublas.file(), "the file, links resolved");
        // the driver is not looked for among the Python packages
        CudaLibraries.Location cuda = search.cuda();
        assertFalse(cuda.found());
        assertFalse(cuda.problem().contains("site-packages"), cuda.problem());
        assertTrue(cuda.problem().contains(root.resolve("usr/local/nvidia/lib64").toString()), cuda.problem());
    }

    @Test
    void cublasIsFoundInTheActiveVirtualEnvAndInDistPackages(@TempDir Path tmp) throws Exception {
        Path stand = libc().orElse(null);
        Assumptions.assumeTrue(stand != null, "no libc.so.6 at a standard path");
        Path root = fakeRoot(tmp, stand, "usr/local/lib/python3.11/dist-packages/nvidia/cublas/lib/libcublas.so.13");
        Path venv = tmp.resolve("venv");
        Path venvLib = Files.createDirectories(venv.resolve("lib/python3.10/site-packages/nvidia/cu13/lib"));
        Map<String, String> env = Map.of("VIRTUAL_ENV", venv.toString());
        List<Path> dirs = CudaLibraries.cublasDirectories(env, root);
        int v = dirs.indexOf(venvLib), dist = dirs.indexOf(root.resolve("usr/local/lib/python3.11/dist-packages/nvidia/cublas/lib"));
        assertTrue(v >= 0 && dist > v, "VIRTUAL_ENV's site-packages first, then dist-packages: " + dirs);

        CudaLibraries.Location inDist = new CudaLibraries(env, List.of(), dirs, false).cublas();
        assertTrue(inDist.found(), String.valueOf(inDist.problem()));
        assertEquals(dirs.get(dist).resolve("libcublas.so.13").toString(), inDist.where());

        Files.createSymbolicLink(venvLib.resolve("libcublas.so.13"), stand);
        assertEquals(venvLib.resolve("libcublas.so.13").toString(), new CudaLibraries(env, List.of(), dirs, false).cublas().where());
        // the override still comes first
        Path other = tmp.resolve("override/libcublas.so.13");
        Files.createDirectories(other.getParent());
        Files.createSymbolicLink(other, stand);
        assertEquals(other + " (from EBM_LIBCUBLAS)",
                new CudaLibraries(Map.of("EBM_LIBCUBLAS", other.toString()), List.of(), dirs, false).cublas().where());
    }

    @Test
    void theDriverIsFoundWhereContainerRuntimesMountIt(@TempDir Path tmp) throws Exception {
        Path stand = libc().orElse(null);
        Assumptions.assumeTrue(stand != null, "no libc.so.6 at a standard path");
        Path root = fakeRoot(tmp, stand, "usr/local/nvidia/lib/libcuda.so.1");
        List<Path> dirs = CudaLibraries.driverDirectories(Map.of("CUDA_HOME", "/opt/cuda-x"), root);
        assertEquals(List.of(root.resolve("usr/local/nvidia/lib64"), root.resolve("usr/local/nvidia/lib")), dirs.subList(0, 2));
        assertEquals(CudaLibraries.standardDirectories(Map.of("CUDA_HOME", "/opt/cuda-x")), dirs.subList(2, dirs.size()));
        CudaLibraries.Location cuda = new CudaLibraries(Map.of(), dirs, List.of(), false).cuda();
        assertTrue(cuda.found(), String.valueOf(cuda.problem()));
        assertEquals(root.resolve("usr/local/nvidia/lib/libcuda.so.1").toString(), cuda.where());
        assertEquals(stand.toRealPath(), cuda.file());

        // lib64 before lib
        Files.createDirectories(root.resolve("usr/local/nvidia/lib64"));
        Files.createSymbolicLink(root.resolve("usr/local/nvidia/lib64/libcuda.so.1"), stand);
        assertEquals(root.resolve("usr/local/nvidia/lib64/libcuda.so.1").toString(),
                new CudaLibraries(Map.of(), dirs, List.of(), false).cuda().where());
    }

    @Test
    void noPythonEnvironmentAddsNoFolders(@TempDir Path tmp) {
        assertEquals(CudaLibraries.standardDirectories(Map.of()), CudaLibraries.cublasDirectories(Map.of("VIRTUAL_ENV", tmp.resolve("none").toString()), tmp));
    }
}
