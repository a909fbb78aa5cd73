package ebm.backend.cuda.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the GPU build of kernels/ (native-build/build-gpu.sh: SASS for sm_80 and sm_90 plus compute_90 PTX) lives:
 * {@code -Debm.kernels.gpu=FILE} if given, else target/native/ebm_kernels.fatbin under the project (the launcher's
 * {@code ebm.home}, else the working directory, which is the project root under Maven). Never built at run time.
 */
public final class GpuKernelModule {
    static final String FILE_NAME = "ebm_kernels.fatbin";
    public static final String BUILD_COMMAND = "native-build/build-gpu.sh (needs nvcc)";

    private GpuKernelModule() {}

    public static Path location() {
        return NativeBuild.output("ebm.kernels.gpu", FILE_NAME);
    }

    /** Empty when the fatbin exists; otherwise a one-line reason with the build command. */
    public static Optional<String> missingReason() {
        Path fatbin = location();
        if (Files.isRegularFile(fatbin)) return Optional.empty();
        return Optional.of("GPU kernel module " + fatbin + " not found; build it with " + BUILD_COMMAND);
    }
}
