package ebm.backend.cuda.bindings;

import ebm.EbmException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the CUDA driver (libcuda.so.1) and cuBLAS (libcublas.so.13). For each, in order:
 * <ol>
 *   <li>the environment override, a file path: {@code EBM_LIBCUDA} / {@code EBM_LIBCUBLAS}. When set it is the only
 *       place tried (a wrong override is an error, never a silent fallback);</li>
 *   <li>the dynamic loader's own search by name (LD_LIBRARY_PATH, /etc/ld.so.cache), which is where a driver
 *       install puts libcuda.so.1;</li>
 *   <li>for libcuda.so.1 first the folders a container runtime mounts the host's driver into: /usr/local/nvidia/lib64
 *       and /usr/local/nvidia/lib;</li>
 *   <li>the standard install folders: /usr/lib/x86_64-linux-gnu, /usr/lib64, /usr/local/cuda/lib64,
 *       /usr/local/cuda/targets/x86_64-linux/lib, /usr/local/cuda-13*&#47;targets/x86_64-linux/lib, and
 *       $CUDA_HOME/lib64 and $CUDA_HOME/targets/x86_64-linux/lib;</li>
 *   <li>for libcublas.so.13 then the folders where NVIDIA's pip wheels put it (PyTorch's cu130 wheels depend on them):
 *       nvidia/cu13/lib and nvidia/cublas/lib under the site-packages of $VIRTUAL_ENV/lib/python3*, of
 *       /opt/torch/.venv/lib/python3* and under /usr/local/lib/python3*&#47;dist-packages (newest Python first).</li>
 * </ol>
 * A library that is found is loaded once for the process (global arena: the driver is never unloaded); where it was
 * found, and the file that is (symbolic links resolved), is kept for {@code ebm info}. Not finding one is a one-line
 * {@link EbmException} listing every place looked.
 */
public final class CudaLibraries {
    public static final String LIBCUDA = "libcuda.so.1";
    public static final String LIBCUBLAS = "libcublas.so.13";
    public static final String ENV_LIBCUDA = "EBM_LIBCUDA";
    public static final String ENV_LIBCUBLAS = "EBM_LIBCUBLAS";
    public static final String CPU_HINT = "the CPU backend (backend: cpu) works without a GPU";

    /**
     * One library's search result: where it was found (the path tried and how), the file that is (symbolic links
     * resolved; null when not known), and its symbols; or why it was not found.
     */
    public record Location(String library, String where, Path file, SymbolLookup symbols, String problem) {
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
    private final List<Path> driverDirectories;
    private final List<Path> cublasDirectories;
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
        this(env, directories, directories, loaderSearch);
    }

    /** As above, with the folders tried for libcuda.so.1 and for libcublas.so.13 given apart. */
    CudaLibraries(Map<String, String> env, List<Path> driverDirectories, List<Path> cublasDirectories, boolean loaderSearch) {
        this.env = Map.copyOf(env);
        this.driverDirectories = List.copyOf(new LinkedHashSet<>(driverDirectories));
        this.cublasDirectories = List.copyOf(new LinkedHashSet<>(cublasDirectories));
        this.loaderSearch = loaderSearch;
    }

    /** The process's search, over the real environment and the standard folders; searched once, then remembered. */
    public static CudaLibraries system() {
        CudaLibraries s = system;
        if (s == null) {
            synchronized (CudaLibraries.class) {
                s = system;
                if (s == null) {
                    Map<String, String> env = System.getenv();
                    Path root = Path.of("/");
                    system = s = new CudaLibraries(env, driverDirectories(env, root), cublasDirectories(env, root), true);
                }
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

    /**
     * The folders tried for libcuda.so.1: where container runtimes mount the host's driver (under {@code root}:
     * usr/local/nvidia/lib64, usr/local/nvidia/lib), then the standard folders.
     */
    static List<Path> driverDirectories(Map<String, String> env, Path root) {
        List<Path> dirs = new ArrayList<>();
        dirs.add(root.resolve("usr/local/nvidia/lib64"));
        dirs.add(root.resolve("usr/local/nvidia/lib"));
        dirs.addAll(standardDirectories(env));
        return dirs;
    }

    /**
     * The folders tried for libcublas.so.13: the standard folders, then nvidia/cu13/lib and nvidia/cublas/lib (the
     * layouts of NVIDIA's CUDA 13 wheels) in each Python environment found: $VIRTUAL_ENV/lib/python3*&#47;site-packages,
     * then, under {@code root}, opt/torch/.venv/lib/python3*&#47;site-packages and usr/local/lib/python3*&#47;dist-packages
     * (newest Python first in each). Only existing package folders are listed.
     */
    static List<Path> cublasDirectories(Map<String, String> env, Path root) {
        List<Path> dirs = new ArrayList<>(standardDirectories(env));
        List<Path> packages = new ArrayList<>();
        String venv = env.get("VIRTUAL_ENV");
        if (venv != null && !venv.isBlank()) packages.addAll(pythonPackageFolders(Path.of(venv, "lib"), "site-packages"));
        packages.addAll(pythonPackageFolders(root.resolve("opt/torch/.venv/lib"), "site-packages"));
        packages.addAll(pythonPackageFolders(root.resolve("usr/local/lib"), "dist-packages"));
        for (Path p : packages) {
            dirs.add(p.resolve("nvidia/cu13/lib"));
            dirs.add(p.resolve("nvidia/cublas/lib"));
        }
        return dirs;
    }

    /** {@code lib}/python3*&#47;{@code kind} folders that exist, newest Python first (3.12 before 3.9). */
    private static List<Path> pythonPackageFolders(Path lib, String kind) {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> pythons = Files.newDirectoryStream(lib, "python3*")) {
            for (Path p : pythons) if (Files.isDirectory(p.resolve(kind))) found.add(p.resolve(kind));
        } catch (IOException | RuntimeException none) {
            return List.of();
        }
        found.sort(Comparator.comparing((Path p) -> pythonMinor(p.getParent().getFileName().toString())).reversed()
                .thenComparing(Comparator.reverseOrder()));
        return found;
    }

    /** 12 for "python3.12", -1 when the name has no minor version. */
    private static int pythonMinor(String name) {
        Matcher m = PYTHON_VERSION.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    private static final Pattern PYTHON_VERSION = Pattern.compile("python3\\.(\\d{1,4}).*");

    public synchronized Location cuda() {
        if (cuda == null) cuda = search(LIBCUDA, ENV_LIBCUDA, driverDirectories);
        return cuda;
    }

    public synchronized Location cublas() {
        if (cublas == null) cublas = search(LIBCUBLAS, ENV_LIBCUBLAS, cublasDirectories);
        return cublas;
    }

    private Location search(String library, String envName, List<Path> directories) {
        String override = env.get(envName);
        if (override != null && !override.isBlank()) {
            Path path = Path.of(override);
            if (!Files.isRegularFile(path)) {
                return missing(library, envName + "=" + override + " is not a file (unset " + envName + " to search the standard places); " + CPU_HINT);
            }
            try {
                return new Location(library, path + " (from " + envName + ")", realFile(path), load(path), null);
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
                Optional<Path> mapped = mappedPath(library);
                String where = mapped.map(p -> p + " (found by the dynamic loader)")
                        .orElse(library + " (found by the dynamic loader)");
                return new Location(library, where, mapped.map(CudaLibraries::realFile).orElse(null), symbols, null);
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
                return new Location(library, candidate.toString(), realFile(candidate), load(candidate), null);
            } catch (IllegalArgumentException e) {
                failures.add(candidate + " exists but did not load: " + e.getMessage());
            }
        }
        return missing(library, library + " not found (looked in: " + String.join(", ", looked) + ")"
                + (failures.isEmpty() ? "" : "; " + String.join("; ", failures)) + "; set " + envName + " to its path if it is installed elsewhere; "
                + CPU_HINT);
    }

    private static Location missing(String library, String problem) {
        return new Location(library, null, null, null, problem.replace('\n', ' '));
    }

    /** The file a path names, symbolic links resolved; the path itself when that fails. */
    private static Path realFile(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException | RuntimeException e) {
            return path;
        }
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
