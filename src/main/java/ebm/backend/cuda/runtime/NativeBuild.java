package ebm.backend.cuda.runtime;

import java.nio.file.Path;

/** Where native-build/'s outputs are found, for both builds of kernels/ (the host library and the GPU module). */
final class NativeBuild {
    private NativeBuild() {}

    /**
     * The file a system property names, if set; else target/native/FILE_NAME under the project (the launcher's
     * {@code ebm.home}, else the working directory, which is the project root under Maven).
     */
    static Path output(String property, String fileName) {
        String explicit = System.getProperty(property);
        if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
        String home = System.getProperty("ebm.home", System.getProperty("user.dir"));
        return Path.of(home, "target", "native", fileName);
    }
}
