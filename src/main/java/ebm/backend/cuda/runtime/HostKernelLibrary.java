package ebm.backend.cuda.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the host build of kernels/ (native-build/build-host.sh) lives: {@code -Debm.kernels.host=FILE} if given,
 * else target/native/libebm_kernels_host.so under the project (the launcher's {@code ebm.home}, else the working
 * directory, which is the project root under Maven).
 */
public final class HostKernelLibrary {
    static final String FILE_NAME = "libebm_kernels_host.so";
    static final String BUILD_COMMAND = "native-build/build-host.sh (mvn package and mvn test run it)";

    private HostKernelLibrary() {}

    public static Path location() {
        return NativeBuild.output("ebm.kernels.host", FILE_NAME);
    }

    /** Set by build-host.sh when it found no host compiler: the build passed without a library. */
    static Path skippedMarker() {
        return location().resolveSibling("host-build-skipped.txt");
    }

    /** Empty when the library exists; otherwise a one-line reason. */
    public static Optional<String> missingReason() {
        Path library = location();
        if (Files.isRegularFile(library)) return Optional.empty();
        if (Files.isRegularFile(skippedMarker())) return Optional.of("skipped: no host compiler (g++ was not on PATH when building; " + library + " was not built)");
        return Optional.of("host kernel library " + library + " not found; build it with " + BUILD_COMMAND);
    }

    /** True when the build deliberately skipped the library because no host compiler was found. */
    public static boolean skippedForMissingCompiler() {
        return !Files.isRegularFile(location()) && Files.isRegularFile(skippedMarker());
    }
}
