package ebm.io;

import ebm.EbmException;
import ebm.model.MlpSpec;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import ebm.tape.Activation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Energy-MLP checkpoints in format ebm-mlp-v1 (ARCHITECTURE.md §3): safetensors with tensors hidden.{l}.weight
 * [H_{l+1}, H_l], hidden.{l}.bias [H_{l+1}], out.weight [1, H_L], out.bias [1]; metadata {@code format} and
 * {@code activation} required, {@code input_dim} and {@code hidden} optional. The architecture is read from the
 * tensor shapes, so files written by other tools load as long as they follow those names and shapes.
 */
public final class MlpCheckpoint {

    public static final String FORMAT = "ebm-mlp-v1";
    public static final String KEY_FORMAT = "format";
    public static final String KEY_ACTIVATION = "activation";
    public static final String KEY_INPUT_DIM = "input_dim";
    public static final String KEY_HIDDEN = "hidden";

    private static final Set<String> RESERVED_KEYS = Set.of(KEY_FORMAT, KEY_ACTIVATION, KEY_INPUT_DIM, KEY_HIDDEN);
    private static final String OUT_WEIGHT = "out.weight";
    private static final String OUT_BIAS = "out.bias";
    // Canonical decimal layer numbers only: "hidden.01.weight" is not layer 1 but an unexpected tensor.
    private static final Pattern HIDDEN_TENSOR = Pattern.compile("hidden\\.(0|[1-9][0-9]{0,8})\\.(weight|bias)");

    private MlpCheckpoint() {
    }

    /** A loaded checkpoint: the architecture, the flat parameters in {@link MlpSpec#layout()} order, all metadata. */
    public record Loaded(MlpSpec spec, double[] params, Map<String, String> metadata) {
    }

    /**
     * Saves {@code params} (laid out as {@code spec.layout()}) as an ebm-mlp-v1 checkpoint, atomically.
     * {@code extraMetadata} (may be null) is added after the format keys, which it may not override.
     * With {@code asFloat32} the tensors are stored as F32, rounded to nearest.
     */
    public static void save(Path file, MlpSpec spec, double[] params, Map<String, String> extraMetadata, boolean asFloat32) {
        ParamLayout layout = spec.layout();
        if (params.length != layout.size()) {
            throw new IllegalArgumentException("parameter buffer has " + params.length + " values, " + spec + " needs " + layout.size());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(KEY_FORMAT, FORMAT);
        metadata.put(KEY_ACTIVATION, spec.activation().configName());
        metadata.put(KEY_INPUT_DIM, Integer.toString(spec.inputDim()));
        metadata.put(KEY_HIDDEN, Arrays.stream(spec.hidden()).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        if (extraMetadata != null) {
            for (Map.Entry<String, String> e : extraMetadata.entrySet()) {
                if (RESERVED_KEYS.contains(e.getKey())) {
                    throw new EbmException("cannot save checkpoint " + file + ": extra metadata key '" + e.getKey()
                            + "' is reserved for the format");
                }
                metadata.put(e.getKey(), e.getValue());
            }
        }

        List<Safetensors.Tensor> tensors = new ArrayList<>();
        for (ParamView view : layout.views()) {
            double[] values = Arrays.copyOfRange(params, view.offset(), view.offset() + view.size());
            // Refuse to write what load() would refuse to read; F32 must also not overflow to infinity.
            for (int i = 0; i < values.length; i++) {
                if (!Double.isFinite(values[i]) || (asFloat32 && !Float.isFinite((float) values[i]))) {
                    throw new EbmException("cannot save checkpoint " + file + ": tensor " + view.name() + " has value "
                            + values[i] + " at flat index " + i + (asFloat32 && Double.isFinite(values[i]) ? ", beyond the F32 range" : ""));
                }
            }
            tensors.add(Safetensors.Tensor.of(view.name(), fileShape(view), values));
        }
        Safetensors.write(file, metadata, tensors, asFloat32 ? Safetensors.F32 : Safetensors.F64);
    }

    /** Shapes as stored: matrices 2-D, biases 1-D (a bias is [1 x H] in memory but [H] in the file). */
    private static long[] fileShape(ParamView view) {
        return view.role() == ParamView.Role.BIAS || view.role() == ParamView.Role.OUTPUT_BIAS
                ? new long[] {view.size()}
                : new long[] {view.rows(), view.cols()};
    }

    /** Loads and fully validates an ebm-mlp-v1 checkpoint. */
    public static Loaded load(Path file) {
        if (!Files.exists(file)) throw new EbmException("checkpoint " + file + " does not exist");
        Safetensors.Contents contents;
        try {
            contents = Safetensors.read(file);
        } catch (EbmException e) {
            throw new EbmException("checkpoint " + e.getMessage(), e); // the message already starts with the file
        }
        Map<String, String> metadata = contents.metadata();
        Map<String, Safetensors.Tensor> tensors = contents.tensors();

        String format = metadata.get(KEY_FORMAT);
        if (format == null) {
            throw fail(file, "metadata has no '" + KEY_FORMAT + "' key; expected " + KEY_FORMAT + "=" + FORMAT);
        }
        if (!format.equals(FORMAT)) {
            throw fail(file, "metadata " + KEY_FORMAT + " is '" + format + "', expected '" + FORMAT + "'");
        }
        String activationName = metadata.get(KEY_ACTIVATION);
        if (activationName == null) {
            throw fail(file, "metadata has no '" + KEY_ACTIVATION + "' key; allowed: " + allowedActivations());
        }
        Activation activation;
        try {
            activation = Activation.parse(activationName);
        } catch (EbmException e) {
            throw fail(file, "metadata " + KEY_ACTIVATION + " is '" + activationName + "', which is unknown; allowed: "
                    + allowedActivations());
        }

        int layers = countLayers(file, tensors.keySet());
        int[] widths = new int[layers + 1]; // widths[0] = D, widths[l] = H_l
        for (int l = 0; l < layers; l++) {
            Safetensors.Tensor weight = require(file, tensors, MlpSpec.weightName(l));
            if (weight.shape().length != 2) {
                throw misshapen(file, weight, l == 0 ? "[H_1, D] (2-D)" : "[H_" + (l + 1) + ", " + widths[l] + "] (2-D)");
            }
            if (l == 0) widths[0] = positiveWidth(file, weight, weight.shape()[1], "[H_1, D] with D > 0");
            else if (weight.shape()[1] != widths[l]) throw misshapen(file, weight, shapeText(weight.shape()[0], widths[l]));
            widths[l + 1] = positiveWidth(file, weight, weight.shape()[0], "[H_" + (l + 1) + ", " + widths[l] + "] with H_" + (l + 1) + " > 0");
            expectShape(file, require(file, tensors, MlpSpec.biasName(l)), widths[l + 1]);
        }
        expectShape(file, require(file, tensors, OUT_WEIGHT), 1, widths[layers]);
        expectShape(file, require(file, tensors, OUT_BIAS), 1);

        MlpSpec spec = new MlpSpec(widths[0], Arrays.copyOfRange(widths, 1, layers + 1), activation);
        ParamLayout layout = spec.layout();
        Set<String> unexpected = new TreeSet<>(tensors.keySet());
        layout.views().forEach(v -> unexpected.remove(v.name()));
        if (!unexpected.isEmpty()) {
            throw fail(file, "unexpected tensors " + String.join(", ", unexpected) + " (an " + FORMAT + " checkpoint of "
                    + layers + " hidden layers holds only " + layout.views().stream().map(ParamView::name).collect(Collectors.joining(", ")) + ")");
        }
        checkSizeMetadata(file, metadata, spec);

        double[] params = new double[layout.size()];
        for (ParamView view : layout.views()) {
            double[] data = tensors.get(view.name()).data();
            for (int i = 0; i < data.length; i++) {
                if (!Double.isFinite(data[i])) {
                    throw fail(file, "tensor " + view.name() + " holds a non-finite value (" + data[i] + ") at flat index " + i);
                }
            }
            // Row-major in the file and in the buffer, so each tensor is one contiguous copy.
            System.arraycopy(data, 0, params, view.offset(), data.length);
        }
        return new Loaded(spec, params, Collections.unmodifiableMap(new LinkedHashMap<>(metadata)));
    }

    /** Number of hidden layers, from the hidden.{l}.* names; the indices must run 0..L-1 without gaps. */
    private static int countLayers(Path file, Set<String> names) {
        TreeMap<Integer, List<String>> byLayer = new TreeMap<>();
        for (String name : names) {
            Matcher m = HIDDEN_TENSOR.matcher(name);
            if (m.matches()) byLayer.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(name);
        }
        if (byLayer.isEmpty()) throw fail(file, "missing tensor " + MlpSpec.weightName(0) + " (no hidden layers found)");
        int expected = 0;
        for (int layer : byLayer.keySet()) {
            if (layer != expected) {
                throw fail(file, "gap in layer numbering: found " + String.join(", ", new TreeSet<>(byLayer.get(layer)))
                        + " but no hidden." + expected + ".* tensors");
            }
            expected++;
        }
        return byLayer.size();
    }

    private static void checkSizeMetadata(Path file, Map<String, String> metadata, MlpSpec spec) {
        String inputDim = metadata.get(KEY_INPUT_DIM);
        if (inputDim != null) {
            int declared = parseSize(file, KEY_INPUT_DIM, inputDim.trim(), inputDim);
            if (declared != spec.inputDim()) {
                throw fail(file, "metadata " + KEY_INPUT_DIM + "=" + inputDim + " disagrees with the tensor shapes, which give "
                        + spec.inputDim() + " (" + MlpSpec.weightName(0) + " is " + shapeText(spec.hidden()[0], spec.inputDim()) + ")");
            }
        }
        String hidden = metadata.get(KEY_HIDDEN);
        if (hidden != null) {
            String[] parts = hidden.split(",", -1);
            int[] declared = new int[parts.length];
            for (int i = 0; i < parts.length; i++) declared[i] = parseSize(file, KEY_HIDDEN, parts[i].trim(), hidden);
            if (!Arrays.equals(declared, spec.hidden())) {
                throw fail(file, "metadata " + KEY_HIDDEN + "=" + hidden + " disagrees with the tensor shapes, which give "
                        + Arrays.stream(spec.hidden()).mapToObj(Integer::toString).collect(Collectors.joining(",")));
            }
        }
    }

    private static int parseSize(Path file, String key, String text, String whole) {
        try {
            int value = Integer.parseInt(text);
            if (value > 0) return value;
        } catch (NumberFormatException ignored) {
            // Reported below with the whole value.
        }
        throw fail(file, "metadata " + key + "='" + whole + "' is not a positive integer" + (key.equals(KEY_HIDDEN) ? " list like 64,64" : ""));
    }

    private static Safetensors.Tensor require(Path file, Map<String, Safetensors.Tensor> tensors, String name) {
        Safetensors.Tensor t = tensors.get(name);
        if (t == null) throw fail(file, "missing tensor " + name);
        return t;
    }

    private static int positiveWidth(Path file, Safetensors.Tensor tensor, long width, String expected) {
        // A zero in the other dimension lets this one be huge without the element count overflowing.
        if (width <= 0 || width > Integer.MAX_VALUE) throw misshapen(file, tensor, expected);
        return (int) width;
    }

    private static void expectShape(Path file, Safetensors.Tensor tensor, long... expected) {
        if (!Arrays.equals(tensor.shape(), expected)) throw misshapen(file, tensor, shapeText(expected));
    }

    private static EbmException misshapen(Path file, Safetensors.Tensor tensor, String expected) {
        return fail(file, "tensor " + tensor.name() + " has shape " + shapeText(tensor.shape()) + ", expected " + expected);
    }

    private static String shapeText(long... shape) {
        return Arrays.toString(shape);
    }

    private static String allowedActivations() {
        return Arrays.stream(Activation.values()).map(Activation::configName).collect(Collectors.joining(", "));
    }

    private static EbmException fail(Path file, String detail) {
        return new EbmException("checkpoint " + file + ": " + detail);
    }
}
