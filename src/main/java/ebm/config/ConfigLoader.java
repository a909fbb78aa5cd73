package ebm.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import ebm.EbmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads a run config: YAML file → tree → `--set key=value` overrides (dotted keys, YAML values) → typed records.
 * Unknown keys, wrong types and out-of-range values are errors that name the key and what is allowed.
 */
public final class ConfigLoader {
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            // a key given twice is an error, not the second replacing the first
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .registerModule(WholeNumbers.MODULE)
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private ConfigLoader() {}

    public static RunConfig load(Path file, List<String> overrides) {
        JsonNode tree = readYaml(file, "config");
        if (tree == null || tree.isMissingNode() || tree.isNull()) tree = JsonNodeFactory.instance.objectNode();
        if (!tree.isObject()) throw new EbmException("config " + file + " must be a YAML mapping of keys to values");
        ObjectNode root = (ObjectNode) tree;
        resolvePaths(root, file.toAbsolutePath().getParent());
        for (String o : overrides) applyOverride(root, o);
        resolvePaths(root, Path.of("").toAbsolutePath()); // what --set gave, against the current directory
        return fromTree(root, file.toString());
    }

    /** The config keys that hold a file path. */
    public static final List<String> PATH_KEYS = List.of("data.path");

    /**
     * Makes each relative path of {@link #PATH_KEYS} in a config tree absolute against `base`, the folder of the file
     * that named it (the current directory for the command line), so a run's config.yaml reads the same from any
     * folder. Absolute paths and keys left out stay as they are.
     */
    public static void resolvePaths(ObjectNode root, Path base) {
        for (String key : PATH_KEYS) {
            String[] parts = key.split("\\.");
            JsonNode node = root;
            for (int i = 0; i < parts.length - 1 && node != null; i++) node = node.get(parts[i]);
            if (!(node instanceof ObjectNode section)) continue;
            JsonNode value = section.get(parts[parts.length - 1]);
            if (value == null || !value.isTextual()) continue; // a wrong type is reported where the tree is parsed
            Path path;
            try {
                path = Path.of(value.asText());
            } catch (java.nio.file.InvalidPathException e) {
                throw new EbmException(key + ": '" + value.asText() + "' is not a valid path: " + e.getReason());
            }
            if (!path.isAbsolute()) section.put(parts[parts.length - 1], base.resolve(path).normalize().toString());
        }
    }

    /** A YAML file as a tree; `what` ("config", "sweep") names the file's role in error messages. */
    public static JsonNode readYaml(Path file, String what) {
        try {
            return YAML.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new EbmException(what + " file not found: " + file);
        } catch (JsonProcessingException e) {
            String duplicate = duplicateKey(e);
            if (duplicate != null) {
                throw new EbmException(what + " " + file + ": duplicate key '" + duplicate + "'"
                        + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : "")
                        + "; give each key once");
            }
            throw new EbmException(what + " " + file + " is not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
        } catch (IOException e) {
            throw new EbmException("cannot read " + what + " " + file + ": " + e.getMessage());
        }
    }

    /** The dotted key a STRICT_DUPLICATE_DETECTION error is about, else null. */
    private static String duplicateKey(JsonProcessingException e) {
        if (!(e instanceof StreamReadException sre) || e.getOriginalMessage() == null
                || !e.getOriginalMessage().startsWith("Duplicate field")) return null;
        if (sre.getProcessor() instanceof JsonParser p && p.getParsingContext() != null) {
            List<String> parts = new java.util.ArrayList<>();
            for (JsonStreamContext c = p.getParsingContext(); c != null; c = c.getParent()) {
                if (c.inObject() && c.getCurrentName() != null) parts.addFirst(c.getCurrentName());
                else if (c.inArray()) parts.addFirst("[" + c.getCurrentIndex() + "]");
            }
            if (!parts.isEmpty()) return String.join(".", parts).replace(".[", "[");
        }
        String m = e.getOriginalMessage();
        int a = m.indexOf('\''), b = m.indexOf('\'', a + 1);
        return a >= 0 && b > a ? m.substring(a + 1, b) : m;
    }

    /**
     * Warnings for keys the chosen optimizer or objective does not use, set to something other than their default
     * (a key left at its default, as every key of a resolved config.yaml of an earlier run is, says nothing).
     */
    public static List<String> unusedKeyWarnings(RunConfig c) {
        List<String> out = new java.util.ArrayList<>();
        OptimizerConfig o = c.optimizer();
        OptimizerConfig d = OptimizerConfig.defaults(o.name());
        String on = "optimizer.name " + o.name();
        java.util.Set<String> used = switch (o.name()) {
            case "sgd" -> java.util.Set.of("momentum", "dampening", "nesterov");
            case "adamw" -> java.util.Set.of("beta1", "beta2", "eps");
            case "muon" -> java.util.Set.of("momentum", "nesterov", "ns_steps", "muon_first_layer", "adam_lr", "beta1",
                    "beta2", "eps");
            case "shampoo" -> java.util.Set.of("precond_eps", "root_every", "start_step", "max_precond_dim", "beta1",
                    "beta2", "eps");
            default -> java.util.Set.of();
        };
        unused(out, on, "optimizer", used, "momentum", o.momentum(), d.momentum());
        unused(out, on, "optimizer", used, "dampening", o.dampening(), d.dampening());
        unused(out, on, "optimizer", used, "nesterov", o.nesterov(), d.nesterov());
        unused(out, on, "optimizer", used, "beta1", o.beta1(), d.beta1());
        unused(out, on, "optimizer", used, "beta2", o.beta2(), d.beta2());
        unused(out, on, "optimizer", used, "eps", o.eps(), d.eps());
        unused(out, on, "optimizer", used, "adam_lr", o.adamLr(), d.adamLr());
        unused(out, on, "optimizer", used, "ns_steps", o.nsSteps(), d.nsSteps());
        unused(out, on, "optimizer", used, "muon_first_layer", o.muonFirstLayer(), d.muonFirstLayer());
        unused(out, on, "optimizer", used, "root_every", o.rootEvery(), d.rootEvery());
        unused(out, on, "optimizer", used, "start_step", o.startStep(), d.startStep());
        unused(out, on, "optimizer", used, "max_precond_dim", o.maxPrecondDim(), d.maxPrecondDim());
        unused(out, on, "optimizer", used, "precond_eps", o.precondEps(), d.precondEps());

        ObjectiveConfig j = c.objective();
        ObjectiveConfig jd = new ObjectiveConfig(j.name(), null, null, null, null, null, null, null);
        String jn = "objective.name " + j.name();
        java.util.Set<String> usedJ = switch (j.name()) {
            case "exact" -> java.util.Set.of("trace");
            case "hutchinson", "sliced", "hutch++" -> java.util.Set.of("probes", "probe_dist");
            case "denoising" -> java.util.Set.of("sigma");
            case "annealed-denoising" -> java.util.Set.of("sigma_max", "sigma_min", "levels");
            default -> java.util.Set.of();
        };
        unused(out, jn, "objective", usedJ, "trace", j.trace(), jd.trace());
        unused(out, jn, "objective", usedJ, "probes", j.probes(), jd.probes());
        unused(out, jn, "objective", usedJ, "probe_dist", j.probeDist(), jd.probeDist());
        unused(out, jn, "objective", usedJ, "sigma", j.sigma(), jd.sigma());
        unused(out, jn, "objective", usedJ, "sigma_max", j.sigmaMax(), jd.sigmaMax());
        unused(out, jn, "objective", usedJ, "sigma_min", j.sigmaMin(), jd.sigmaMin());
        unused(out, jn, "objective", usedJ, "levels", j.levels(), jd.levels());
        return out;
    }

    private static void unused(List<String> out, String chosen, String section, java.util.Set<String> used, String key,
                               Object value, Object fallback) {
        if (used.contains(key) || java.util.Objects.equals(value, fallback)) return;
        out.add(section + "." + key + " = " + value + " is not used by " + chosen + " (ignored)");
    }

    /** Logs {@link #unusedKeyWarnings}, one line each; for a new run's config as the user wrote it. */
    public static void warnUnusedKeys(RunConfig c) {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ConfigLoader.class);
        for (String w : unusedKeyWarnings(c)) log.warn("{}", w);
    }

    /** Parses a tree into a validated RunConfig; `source` names where it came from in error messages. */
    public static RunConfig fromTree(JsonNode tree, String source) {
        try {
            return YAML.treeToValue(tree, RunConfig.class);
        } catch (UnrecognizedPropertyException e) {
            String parent = path(e, 1);
            String key = (parent.isEmpty() ? "" : parent + ".") + e.getPropertyName();
            String allowed = e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", "));
            throw new EbmException(source + ": unknown key '" + key + "'; allowed" + (parent.isEmpty() ? "" : " under '" + parent + "'")
                    + ": " + allowed);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause();
            if (cause instanceof EbmException ee) throw new EbmException(source + ": " + ee.getMessage());
            throw new EbmException(source + ": invalid value at '" + path(e, 0) + "': " + e.getOriginalMessage());
        } catch (InvalidFormatException e) {
            throw new EbmException(source + ": '" + path(e, 0) + "' has the wrong type: got '" + e.getValue() + "', expected "
                    + describe(e.getTargetType()));
        } catch (MismatchedInputException e) {
            throw new EbmException(source + ": '" + path(e, 0) + "' has the wrong type, expected " + describe(e.getTargetType()));
        } catch (JsonMappingException e) {
            throw new EbmException(source + ": invalid config at '" + path(e, 0) + "': " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new EbmException(source + ": invalid config: " + e.getOriginalMessage());
        }
    }

    private static String describe(Class<?> type) {
        if (type == null) return "another type";
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) return "an integer";
        if (type == Double.class || type == double.class) return "a number";
        if (type == Boolean.class || type == boolean.class) return "true or false";
        if (type == String.class) return "a string";
        if (List.class.isAssignableFrom(type)) return "a list, e.g. [64, 64]";
        return "a mapping of keys (" + type.getSimpleName() + ")";
    }

    /** The dotted key of a mapping exception's path, dropping the last `dropLast` elements. */
    private static String path(JsonMappingException e, int dropLast) {
        List<JsonMappingException.Reference> refs = e.getPath();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < refs.size() - dropLast; i++) {
            JsonMappingException.Reference r = refs.get(i);
            if (r.getFieldName() != null) {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** Applies `a.b.c=value` with value in YAML syntax (`[128,128]`, `1e-3`, `true`, `cosine`). */
    public static void applyOverride(ObjectNode root, String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) throw new EbmException("--set expects key=value (e.g. optimizer.lr=1e-3), got '" + assignment + "'");
        String key = assignment.substring(0, eq).trim();
        String text = assignment.substring(eq + 1).trim();
        JsonNode value;
        try {
            value = text.isEmpty() ? JsonNodeFactory.instance.nullNode() : YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new EbmException("--set " + key + ": value '" + text + "' is not valid YAML");
        }
        setKey(root, key, value, "--set " + key);
    }

    /**
     * Sets a dotted key on a config tree, creating sections on the way; {@code where} opens the error when a section
     * on the way is a value.
     */
    public static void setKey(ObjectNode root, String key, JsonNode value, String where) {
        String[] parts = key.split("\\.");
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || child.isNull()) {
                child = node.putObject(parts[i]);
            } else if (!child.isObject()) {
                throw new EbmException(where + ": '" + String.join(".", List.of(parts).subList(0, i + 1))
                        + "' is a value, not a section");
            }
            node = (ObjectNode) child;
        }
        node.set(parts[parts.length - 1], value);
    }

    public static String toYaml(RunConfig config) {
        try {
            return YAML.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write config", e);
        }
    }

    /** The config as a tree with every key resolved (for sweeps that set keys on a base config). */
    public static JsonNode toTree(RunConfig config) {
        return YAML.valueToTree(config);
    }
}
