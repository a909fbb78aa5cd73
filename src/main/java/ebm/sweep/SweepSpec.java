package ebm.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import ebm.EbmException;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A sweep file, expanded into its grid points. The file holds
 * <ul>
 * <li>{@code base}: an ordinary run config (a mapping, or the path of a config file relative to the sweep file; a
 * relative data path resolves against the file that names it);</li>
 * <li>{@code grid}: dotted config keys → lists of values (or {@code {logspace: [from, to, num]}});</li>
 * <li>{@code variants} (optional): named groups of keys set together, e.g. SGD with Nesterov momentum; a list
 * inside a variant is a grid of its own (learning rates per optimizer).</li>
 * </ul>
 * Points are ordered with the grid keys other than {@code seed} in file order (first key slowest), then the variant
 * and its own lists, then {@code seed} (fastest); run names join one token per value in that order.
 * Values are applied to the base tree before defaults resolve, so defaults that depend on another key (an
 * optimizer's default learning rate) follow the point's values.
 */
public final class SweepSpec {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final String VARIANT = "variant";
    private static final List<String> TOP_KEYS = List.of("base", "variants", "grid");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)[eE][+-]?\\d+");
    private static final Pattern NAME_CHARS = Pattern.compile("[A-Za-z0-9._+-]+");

    /** One grid point: its index in the full grid, its run-folder name, the values that vary, the validated config. */
    public record Point(int index, String name, Map<String, JsonNode> values, RunConfig config) {}

    private final Path file;
    private final String text;
    private final List<Point> points;

    private SweepSpec(Path file, String text, List<Point> points) {
        this.file = file;
        this.text = text;
        this.points = points;
    }

    public Path file() {
        return file;
    }

    /** The sweep file as written, kept beside the results. */
    public String text() {
        return text;
    }

    public List<Point> points() {
        return points;
    }

    /** Values a point sets: `values` are shown and named, `settings` are every key applied to the base. */
    private record Partial(LinkedHashMap<String, JsonNode> values, LinkedHashMap<String, JsonNode> settings) {
        Partial with(String shownKey, JsonNode shown, Map<String, JsonNode> set) {
            LinkedHashMap<String, JsonNode> v = new LinkedHashMap<>(values), s = new LinkedHashMap<>(settings);
            v.put(shownKey, shown);
            s.putAll(set);
            return new Partial(v, s);
        }
    }

    public static SweepSpec load(Path file) {
        JsonNode root = ConfigLoader.readYaml(file, "sweep");
        String text;
        try {
            text = Files.readString(file); // kept verbatim: the sweep folder gets a copy
        } catch (IOException e) {
            throw new EbmException("cannot read sweep " + file + ": " + e.getMessage());
        }
        String where = "sweep " + file;
        if (root == null || !root.isObject()) {
            throw new EbmException(where + ": must be a mapping with keys " + String.join(", ", TOP_KEYS));
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!TOP_KEYS.contains(key)) {
                throw new EbmException(where + ": unknown key '" + key + "'; allowed: " + String.join(", ", TOP_KEYS));
            }
        }
        Path sweepFolder = file.toAbsolutePath().getParent();
        ObjectNode base = readBase(file, root.get("base"), where);
        ConfigLoader.fromTree(base, where + ": base");

        JsonNode grid = root.get("grid");
        if (grid != null && !grid.isNull() && !grid.isObject()) {
            throw new EbmException(where + ": 'grid' must be a mapping of dotted config keys to lists of values");
        }
        JsonNode variants = root.get("variants");
        if (variants != null && !variants.isNull() && !variants.isObject()) {
            throw new EbmException(where + ": 'variants' must be a mapping of variant names to mappings of dotted keys");
        }

        // Which keys the grid sets, to refuse a key set both by the grid and by a variant.
        Map<String, String> setBy = new HashMap<>();
        List<Partial> partials = List.of(new Partial(new LinkedHashMap<>(), new LinkedHashMap<>()));
        List<JsonNode> seeds = null;
        if (grid != null && grid.isObject()) {
            for (Map.Entry<String, JsonNode> e : grid.properties()) {
                String key = e.getKey();
                checkKey(key, where + ": grid key '" + key + "'");
                if (key.equals(VARIANT)) {
                    throw new EbmException(where + ": grid key 'variant' is reserved; define variants under 'variants:'");
                }
                List<JsonNode> values = valueList(e.getValue(), where + ": grid key '" + key + "'");
                setBy.put(key, "grid");
                if (key.equals("seed")) {
                    seeds = values; // replicates vary fastest, whatever their place in the file
                    continue;
                }
                partials = product(partials, key, values);
            }
        }
        if (variants != null && variants.isObject()) {
            if (variants.isEmpty()) throw new EbmException(where + ": 'variants' is empty; list at least one or leave it out");
            List<Partial> next = new ArrayList<>();
            for (Partial p : partials) {
                for (Map.Entry<String, JsonNode> v : variants.properties()) {
                    next.addAll(expandVariant(p, v.getKey(), v.getValue(), setBy, where));
                }
            }
            partials = next;
        }
        if (seeds != null) partials = product(partials, "seed", seeds);

        List<Point> points = new ArrayList<>();
        Map<String, Integer> byName = new HashMap<>();
        for (Partial p : partials) {
            int index = points.size();
            String name = runName(p.values());
            Integer clash = byName.put(name, index);
            if (clash != null) {
                throw new EbmException(where + ": grid points " + clash + " and " + index + " get the same run name '" + name
                        + "'; make their values or variant names differ in letters or digits");
            }
            ObjectNode tree = base.deepCopy();
            for (Map.Entry<String, JsonNode> s : p.settings().entrySet()) {
                ConfigLoader.setKey(tree, s.getKey(), s.getValue().deepCopy(), where + ": key '" + s.getKey() + "'");
            }
            ConfigLoader.resolvePaths(tree, sweepFolder); // a path the grid or a variant set, against the sweep file
            RunConfig config = ConfigLoader.fromTree(tree, where + ", run " + name);
            points.add(new Point(index, name, p.values(), config));
        }
        return new SweepSpec(file, text, points);
    }

    private static ObjectNode readBase(Path file, JsonNode base, String where) {
        if (base == null || base.isNull()) {
            throw new EbmException(where + ": needs 'base:', a run config (a mapping like configs/*.yaml, or the path of one)");
        }
        if (base.isTextual()) {
            Path path = file.toAbsolutePath().getParent().resolve(base.asText());
            try {
                JsonNode tree = YAML.readTree(Files.readString(path));
                if (tree == null || !tree.isObject()) throw new EbmException(where + ": base file " + path + " is not a YAML mapping");
                ConfigLoader.resolvePaths((ObjectNode) tree, path.getParent()); // its data paths, against the base file
                return (ObjectNode) tree;
            } catch (NoSuchFileException e) {
                throw new EbmException(where + ": base config file not found: " + path);
            } catch (IOException e) {
                throw new EbmException(where + ": cannot read base config " + path + ": " + e.getMessage());
            }
        }
        if (!base.isObject()) throw new EbmException(where + ": 'base' must be a run config mapping or a config file path");
        ConfigLoader.resolvePaths((ObjectNode) base, file.toAbsolutePath().getParent());
        return (ObjectNode) base;
    }

    private static List<Partial> expandVariant(Partial outer, String name, JsonNode body, Map<String, String> setBy, String where) {
        String at = where + ": variant '" + name + "'";
        if (!NAME_CHARS.matcher(name).matches()) {
            throw new EbmException(at + ": names may use letters, digits and . _ + - only (they name run folders)");
        }
        if (body != null && !body.isNull() && !body.isObject()) {
            throw new EbmException(at + " must be a mapping of dotted config keys to values, e.g. {optimizer.name: sgd}");
        }
        LinkedHashMap<String, JsonNode> fixed = new LinkedHashMap<>();
        List<Map.Entry<String, List<JsonNode>>> lists = new ArrayList<>();
        if (body != null && body.isObject()) {
            for (Map.Entry<String, JsonNode> e : body.properties()) {
                String key = e.getKey();
                checkKey(key, at + ", key '" + key + "'");
                if ("grid".equals(setBy.get(key))) {
                    throw new EbmException(at + " sets '" + key + "', which the grid also sets; set it in one place");
                }
                if (e.getValue().isArray() || isLogspace(e.getValue())) {
                    lists.add(Map.entry(key, valueList(e.getValue(), at + ", key '" + key + "'")));
                } else {
                    fixed.put(key, e.getValue());
                }
            }
        }
        List<Partial> out = List.of(outer.with(VARIANT, TextNode.valueOf(name), fixed));
        for (Map.Entry<String, List<JsonNode>> l : lists) out = product(out, l.getKey(), l.getValue());
        return out;
    }

    private static List<Partial> product(List<Partial> partials, String key, List<JsonNode> values) {
        List<Partial> next = new ArrayList<>();
        for (Partial p : partials) for (JsonNode v : values) next.add(p.with(key, v, Map.of(key, v)));
        return next;
    }

    /** Every key a run config knows, with its default (null where unset), to check sweep keys against. */
    private static final JsonNode KNOWN = ConfigLoader.toTree(ConfigLoader.fromTree(JsonNodeFactory.instance.objectNode(), "defaults"));

    /** A sweep key must name one config value: sections on the way, a known key at the end. */
    private static void checkKey(String key, String where) {
        String[] parts = key.split("\\.", -1);
        JsonNode node = KNOWN;
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty()) throw new EbmException(where + ": not a dotted config key (e.g. optimizer.lr)");
            String prefix = String.join(".", List.of(parts).subList(0, i));
            if (!node.isObject()) throw new EbmException(where + ": '" + prefix + "' is a value, not a section");
            if (!node.has(parts[i])) {
                List<String> allowed = new ArrayList<>();
                node.fieldNames().forEachRemaining(allowed::add);
                throw new EbmException(where + ": unknown key '" + String.join(".", List.of(parts).subList(0, i + 1)) + "'; allowed"
                        + (prefix.isEmpty() ? "" : " under '" + prefix + "'") + ": " + String.join(", ", allowed.stream().sorted().toList()));
            }
            node = node.get(parts[i]);
        }
        if (node.isObject()) throw new EbmException(where + ": '" + key + "' is a section; name one of its keys, e.g. " + key + "."
                + node.fieldNames().next());
    }

    private static boolean isLogspace(JsonNode node) {
        return node != null && node.isObject() && node.size() == 1 && node.has("logspace");
    }

    /** A list of values to try: a non-empty YAML list without repeats, or {logspace: [from, to, num]}. */
    static List<JsonNode> valueList(JsonNode node, String where) {
        List<JsonNode> values = new ArrayList<>();
        if (isLogspace(node)) {
            JsonNode spec = node.get("logspace");
            if (!spec.isArray() || spec.size() != 3 || !spec.get(0).isNumber() || !spec.get(1).isNumber() || !spec.get(2).isIntegralNumber()) {
                throw new EbmException(where + ": logspace takes [from, to, num], e.g. {logspace: [1e-4, 1e-1, 4]}");
            }
            double from = spec.get(0).asDouble(), to = spec.get(1).asDouble();
            int num = spec.get(2).asInt();
            if (!(from > 0) || !(to > 0) || num < 1) {
                throw new EbmException(where + ": logspace needs from > 0, to > 0 and num >= 1, got " + spec);
            }
            for (int i = 0; i < num; i++) {
                double t = num == 1 ? 0 : i / (double) (num - 1);
                double v = Math.exp(Math.log(from) + t * (Math.log(to) - Math.log(from)));
                // Four significant digits keep run names readable (1e-4, 0.001, 0.01 rather than 0.0010000000000000002).
                values.add(DoubleNode.valueOf(new BigDecimal(v).round(new MathContext(4)).doubleValue()));
            }
        } else if (node != null && node.isArray()) {
            for (JsonNode v : node) values.add(numberIfNumeric(v));
            if (values.isEmpty()) throw new EbmException(where + ": the list is empty; give at least one value");
        } else {
            throw new EbmException(where + ": must be a list of values (e.g. [0.001, 0.003]) or {logspace: [from, to, num]}, got "
                    + (node == null ? "nothing" : node.toString()));
        }
        for (int i = 0; i < values.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (values.get(i).equals(values.get(j))) throw new EbmException(where + ": lists " + values.get(i) + " twice");
            }
        }
        return values;
    }

    /**
     * YAML 1.1 reads 1e-3 (no dot) as a string; the config accepts it as a number anyway, so treat it as one here too
     * (for run names like lr0.001 and for spotting repeats).
     */
    private static JsonNode numberIfNumeric(JsonNode v) {
        if (v.isTextual() && DECIMAL.matcher(v.asText().trim()).matches()) {
            return DoubleNode.valueOf(Double.parseDouble(v.asText().trim()));
        }
        return v;
    }

    /** A folder name from the point's values: e.g. exact_nesterov_lr0.01_seed0. */
    static String runName(Map<String, JsonNode> values) {
        if (values.isEmpty()) return "base";
        List<String> tokens = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : values.entrySet()) tokens.add(token(e.getKey(), e.getValue()));
        return String.join("_", tokens);
    }

    private static String token(String key, JsonNode value) {
        if (value.isTextual()) return sanitize(value.asText());
        String segment = key.substring(key.lastIndexOf('.') + 1);
        return sanitize(segment + format(value));
    }

    /** A value as short readable text: 0.001, 3e-7, 32x32, true. */
    static String format(JsonNode value) {
        if (value.isIntegralNumber()) return value.asText();
        if (value.isNumber()) return compact(value.asDouble());
        if (value.isArray()) {
            List<String> parts = new ArrayList<>();
            for (JsonNode v : value) parts.add(format(v));
            return String.join("x", parts);
        }
        if (value.isNull()) return "null";
        return value.isValueNode() ? value.asText() : value.toString();
    }

    static String compact(double d) {
        if (!Double.isFinite(d)) return Double.toString(d);
        BigDecimal bd = BigDecimal.valueOf(d).stripTrailingZeros();
        String plain = bd.toPlainString();
        if (plain.length() <= 7) return plain;
        String digits = bd.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - bd.scale();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (d < 0 ? "-" : "") + mantissa + "e" + exponent;
    }

    private static String sanitize(String s) {
        String out = s.replaceAll("[^A-Za-z0-9.+-]", "-");
        return out.isEmpty() ? "-" : out;
    }

    /** The values as a JSON object (for the run folder's point file). */
    static ObjectNode valuesNode(Map<String, JsonNode> values) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        values.forEach(o::set);
        return o;
    }
}
