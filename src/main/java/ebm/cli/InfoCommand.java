package ebm.cli;

import ebm.EbmException;
import ebm.backend.cuda.bindings.Cublas;
import ebm.backend.cuda.bindings.CudaDriver;
import ebm.backend.cuda.bindings.CudaLibraries;
import ebm.backend.cuda.runtime.DriverLauncher;
import ebm.backend.cuda.runtime.GpuKernelModule;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.backend.cuda.runtime.HostKernelLibrary;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * `ebm info`: what this machine offers ebm, one line each. Never fails for a missing GPU: every piece that is absent
 * says so on its own line (and where it was looked for), and the command exits 0.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Print the Java runtime, CPU threads, the kernel builds and the GPU the CUDA backend would use.",
                "For the GPU: libcuda, driver version, device, compute capability, SMs, memory, cuBLAS. Exits 0 without a "
                        + "GPU too."})
final class InfoCommand implements Callable<Integer> {

    private static void line(String key, String value) {
        System.out.printf("%-18s %s%n", key + ":", value);
    }

    /** "not found (looked in: ...); ..." from a search message that starts with the library's name. */
    private static String withoutName(CudaLibraries.Location location) {
        String problem = location.problem();
        return problem.startsWith(location.library() + " ") ? problem.substring(location.library().length() + 1) : problem;
    }

    /** Where a library was found, and the file it is when that differs (a symbolic link such as libcuda.so.1). */
    static String found(CudaLibraries.Location location) {
        String where = location.where();
        if (location.file() == null) return where;
        String file = location.file().toString();
        return where.equals(file) || where.startsWith(file + " ") ? where : where + "; file " + file;
    }

    @Override
    public Integer call() {
        line("java", Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
        long heap = Runtime.getRuntime().maxMemory();
        String heapSource = System.getProperty("ebm.heap"); // the bundle's launcher says how it chose -Xmx
        line("java heap", String.format(Locale.ROOT, "max %.1f GiB (%d MiB; %s)", heap / (double) (1L << 30), heap >> 20,
                heapSource == null || heapSource.isBlank() ? "the JVM's default" : heapSource));
        line("cpu threads", String.valueOf(Runtime.getRuntime().availableProcessors()));
        line("host kernels", HostKernelLibrary.missingReason().orElse(HostKernelLibrary.location() + " (built)"));
        line("gpu kernels", GpuKernelModule.missingReason().orElse(GpuKernelModule.location() + " (built)"));

        CudaLibraries.Location cuda = CudaLibraries.system().cuda();
        line(CudaLibraries.LIBCUDA, cuda.found() ? found(cuda) : withoutName(cuda));
        if (cuda.found()) {
            try {
                CudaDriver.init();
                line("cuda driver", CudaDriver.formatVersion(CudaDriver.driverVersion()));
                int count = CudaDriver.deviceCount();
                if (count == 0) line("gpu", "none (the driver reports no devices)");
                int selected = -1;
                try {
                    selected = DriverLauncher.selectedOrdinalFromEnvironment();
                } catch (EbmException bad) {
                    line("gpu selection", bad.getMessage());
                }
                for (int d = 0; d < count; d++) {
                    CudaDriver.Device device = CudaDriver.deviceInfo(d);
                    line("gpu " + d, device.name() + (d == selected ? " (selected; " + DriverLauncher.DEVICE_ENV + " chooses)" : ""));
                    line("  compute capab.", "sm_" + device.major() + device.minor() + " (" + device.computeCapability() + ")");
                    line("  SMs", String.valueOf(device.multiprocessors()));
                    line("  memory", String.format("%.1f GiB", device.totalMemory() / (double) (1L << 30)));
                }
            } catch (EbmException e) {
                line("cuda driver", e.getMessage());
            }
        } else {
            line("cuda driver", "n/a (no " + CudaLibraries.LIBCUDA + ")");
            line("gpu", "n/a (no " + CudaLibraries.LIBCUDA + ")");
        }

        CudaLibraries.Location cublas = CudaLibraries.system().cublas();
        if (cublas.found()) {
            String version;
            try {
                version = "cuBLAS " + Cublas.libraryVersion();
            } catch (EbmException e) {
                version = "version unknown: " + e.getMessage();
            }
            line(CudaLibraries.LIBCUBLAS, found(cublas) + ", " + version);
        } else {
            line(CudaLibraries.LIBCUBLAS, withoutName(cublas));
        }
        String backend = !cuda.found() ? "unavailable: no GPU (" + CudaLibraries.LIBCUDA + " not found, see above)"
                : GpuRuntime.unavailableReason().map(r -> "unavailable: " + r).orElse("ready");
        line("gpu backend", backend);
        return 0;
    }
}
