package ebm.backend.cuda.bindings;

import ebm.EbmException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the CUDA driver (libcuda.so.1) and cuBLAS (libcublas.so.13). For each, in order:
 * <ol>
 *   <li>the environment override, a file path: {@code EBM_LIBCUDA} / {@code EBM_LIBCUBLAS}. When set it is the only
 *       place tried (a wrong override is an error, never a silent fallback);</li>
 *   <li>the dynamic loader's own search by name (LD_LIBRARY_PATH, /etc/ld.so.cache), which is where a driver
 *       install puts libcuda.so.1;</li>
 *   <li>the standard install folders: /usr/lib/x86_64-linux-gnu, /usr/lib64, /usr/local/cuda/lib64,
 *       /usr/local/cuda/targets/x86_64-linux/lib, /usr/local/cuda-13*&#47;targets/x86_64-linux/lib, and
 *       $CUDA_HOME/lib64 and $CUDA_HOME/targets/x86_64-linux/lib.</li>
 * </ol>
 * A library that is found is loaded once for the process (global arena: the driver is never unloaded); where it was
 * found is kept for {@code ebm info}. Not finding one is a one-line {@link EbmException} listing every place looked.
 */
public final class CudaLibraries {
    public static final String LIBCUDA = "libcuda.so.1";
    public static final String LIBCUBLAS = "libcublas.so.13";
    public static final String ENV_LIBCUDA = "EBM_LIBCUDA";
    public static final String ENV_LIBCUBLAS = "EBM_LIBCUBLAS";
    public static final String CPU_HINT = "the CPU backend (backend: cpu) works without a GPU";

    /** One library's search result: where it was found and its symbols, or why it was not. */
    public record Location(String library, String where, SymbolLookup symbols, String problem) {
        public boolean found() {
            return symbols != null;
        }

        /** The symbols; an EbmException with the search's one-line message when the library was not found. */
        public SymbolLookup require() {
            if (symbols == null) throw new EbmException(problem);
            return symbols;
        }
    }

    private static volatile CudaLibraries system;

    private final Map<String, String> env;
    private final List<Path> directories;
    private final boolean loaderSearch;
    private Location cuda;
    private Location cublas;

    /**
     * @param env          the environment (for the overrides)
     * @param directories  the install folders tried after the loader, in order
     * @param loaderSearch whether to ask the dynamic loader by name (tests turn it off so the result does not
     *                     depend on the machine)
     */
    CudaLibraries(Map<String, String> env, List<Path> directories, boolean loaderSearch) {
        this.env = Map.copyOf(env);
        this.directories = List.copyOf(new LinkedHashSet<>(directories));
        this.loaderSearch = loaderSearch;
    }

    /** The process's search, over the real environment and the standard folders; searched once, then remembered. */
    public static CudaLibraries system() {
        CudaLibraries s = system;
        if (s == null) {
            synchronized (CudaLibraries.class) {
                s = system;
                if (s == null) system = s = new CudaLibraries(System.getenv(), standardDirectories(System.getenv()), true);
            }
        }
        return s;
    }

    /** The install folders in search order ($CUDA_HOME's from the given environment; cuda-13* globbed now). */
    static List<Path> standardDirectories(Map<String, String> env) {
        List<Path> dirs = new ArrayList<>();
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        dirs.add(Path.of("/usr/lib64"));
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        List<Path> versioned = new ArrayList<>();
        try (DirectoryStream<Path> cuda13 = Files.newDirectoryStream(Path.of("/usr/local"), "cuda-13*")) {
            for (Path p : cuda13) versioned.add(p.resolve("targets/x86_64-linux/lib"));
        } catch (IOException | RuntimeException noUsrLocal) {
            // no /usr/local: nothing to glob
        }
        versioned.sort(null);
        dirs.addAll(versioned.reversed()); // newest 13.x first
        String cudaHome = env.get("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) {
            dirs.add(Path.of(cudaHome, "lib64"));
            dirs.add(Path.of(cudaHome, "targets/x86_64-linux/lib"));
        }
        return dirs;
    }

    public synchronized Location cuda() {
        if (cuda == null) cuda = search(LIBCUDA, ENV_LIBCUDA);
        return cuda;
    }

    public synchronized Location cublas() {
        if (cublas == null) cublas = search(LIBCUBLAS, ENV_LIBCUBLAS);
        return cublas;
    }

    private Location search(String library, String envName) {
        String override = env.get(envName);
        if (override != null && !override.isBlank()) {
            Path path = Path.of(override);
            if (!Files.isRegularFile(path)) {
                return missing(library, envName + "=" + override + " is not a file (unset " + envName + " to search the standard places); " + CPU_HINT);
            }
            try {
                return new Location(library, path + " (from " + envName + ")", load(path), null);
            } catch (IllegalArgumentException e) {
                return missing(library, envName + "=" + override + " did not load (" + e.getMessage() + "); " + CPU_HINT);
            }
        }
        List<String> looked = new ArrayList<>();
        looked.add("$" + envName + " (unset)");
        if (loaderSearch) {
            looked.add("the dynamic loader's search (LD_LIBRARY_PATH, /etc/ld.so.cache)");
            try {
                SymbolLookup symbols = SymbolLookup.libraryLookup(library, Arena.global());
                String where = mappedPath(library).map(p -> p + " (found by the dynamic loader)")
                        .orElse(library + " (found by the dynamic loader)");
                return new Location(library, where, symbols, null);
            } catch (IllegalArgumentException notOnLoaderPath) {
                // try the install folders
            }
        }
        List<String> failures = new ArrayList<>();
        for (Path dir : directories) {
            Path candidate = dir.resolve(library);
            looked.add(dir.toString());
            if (!Files.exists(candidate)) continue;
            try {
                return new Location(library, candidate.toString(), load(candidate), null);
            } catch (IllegalArgumentException e) {
                failures.add(candidate + " exists but did not load: " + e.getMessage());
            }
        }
        return missing(library, library + " not found (looked in: " + String.join(", ", looked) + ")"
                + (failures.isEmpty() ? "" : "; " + String.join("; ", failures)) + "; set " + envName + " to its path if it is installed elsewhere; "
                + CPU_HINT);
    }

    private static Location missing(String library, String problem) {
        return new Location(library, null, null, problem.replace('\n', ' '));
    }

    private static SymbolLookup load(Path path) {
        // libcublas.so.13 needs libcublasLt.so.13; load the sibling first so a folder outside the loader's path works.
        if (path.getFileName().toString().startsWith("libcublas.so")) {
            Path lt = path.resolveSibling(path.getFileName().toString().replace("libcublas.so", "libcublasLt.so"));
            if (Files.isRegularFile(lt)) SymbolLookup.libraryLookup(lt, Arena.global());
        }
        return SymbolLookup.libraryLookup(path, Arena.global());
    }

    /** The file the loader actually mapped for a library loaded by name (symlinks resolved), from /proc/self/maps. */
    private static Optional<Path> mappedPath(String library) {
        String stem = "/" + library.substring(0, library.indexOf(".so") + 3); // "/libcuda.so"
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.map(line -> {
                        int slash = line.indexOf('/');
                        return slash < 0 ? null : line.substring(slash);
                    })
                    .filter(p -> p != null && (p.contains(stem + ".") || p.endsWith(stem)))
                    .findFirst().map(Path::of);
        } catch (IOException | RuntimeException noProc) {
            return Optional.empty();
        }
    }
}
