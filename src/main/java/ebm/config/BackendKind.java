package ebm.config;

import com.fasterxml.jackson.annotation.JsonValue;
import ebm.EbmException;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Where a run computes (the config key `backend`, the --backend options of sample and bench): the fp64 CPU, the
 * CUDA code path on a GPU, or the same CUDA code path through the host build of its kernels. Parsed from its config
 * name once, where the text comes in; everything below takes the enum. toString() is the config name, so messages
 * and files read as they did with the string.
 */
public enum BackendKind {
    CPU("cpu"),
    CUDA("cuda"),
    CUDA_EMULATED("cuda-emulated");

    private final String configName;

    BackendKind(String configName) {
        this.configName = configName;
    }

    /** The name in configs, options, files and messages: cpu, cuda, cuda-emulated. */
    @JsonValue
    public String configName() {
        return configName;
    }

    /** Whether this runs the CUDA code path (on a GPU or through the host build). */
    public boolean cuda() {
        return this != CPU;
    }

    @Override
    public String toString() {
        return configName;
    }

    /** The config names, in order, as an error message lists them: "cpu, cuda, cuda-emulated". */
    public static String allowed() {
        return Arrays.stream(values()).map(BackendKind::configName).collect(Collectors.joining(", "));
    }

    /** The backend of a config name, empty for anything else. */
    public static Optional<BackendKind> byName(String name) {
        return Arrays.stream(values()).filter(b -> b.configName.equals(name)).findFirst();
    }

    /** The backend of a config name; otherwise the one-line error naming key ("backend: 'tpu' is not allowed; ..."). */
    public static BackendKind parse(String key, String name) {
        return byName(name).orElseThrow(() -> new EbmException(key + ": '" + name + "' is not allowed; allowed: " + allowed()));
    }
}
