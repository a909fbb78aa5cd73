package ebm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.model.MlpSpec;
import ebm.model.ParamView;
import ebm.tape.Activation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MlpCheckpointTest {

    @TempDir
    Path dir;

    private static double[] randomParams(MlpSpec spec, long seed) {
        Random random = new Random(seed);
        double[] params = new double[spec.layout().size()];
        for (int i = 0; i < params.length; i++) params[i] = random.nextGaussian();
        return params;
    }

    private static final List<MlpSpec> SPECS = List.of(
            new MlpSpec(3, new int[] {5}, Activation.SOFTPLUS),
            new MlpSpec(4, new int[] {7, 3}, Activation.SILU),
            new MlpSpec(2, new int[] {6, 9, 4}, Activation.GELU_TANH),
            new MlpSpec(1, new int[] {1, 2, 1}, Activation.TANH));

    @Test
    void roundTripF64IsExact() {
        for (MlpSpec spec : SPECS) {
            Path file = dir.resolve("f64-" + spec.layers() + "-" + spec.activation().configName() + ".safetensors");
            double[] params = randomParams(spec, spec.layers());
            MlpCheckpoint.save(file, spec, params, Map.of("step", "1200", "objective", "exact"), false);
            MlpCheckpoint.Loaded loaded = MlpCheckpoint.load(file);
            assertEquals(spec, loaded.spec());
            assertArrayEquals(params, loaded.params(), 0.0);
            assertEquals("ebm-mlp-v1", loaded.metadata().get("format"));
            assertEquals(spec.activation().configName(), loaded.metadata().get("activation"));
            assertEquals(Integer.toString(spec.inputDim()), loaded.metadata().get("input_dim"));
            assertEquals("1200", loaded.metadata().get("step"));
            assertEquals("exact", loaded.metadata().get("objective"));
            System.out.printf("F64 round trip %s: spec equal, %d params bit-identical, metadata %s%n", spec, params.length,
                    loaded.metadata());
        }
    }

    @Test
    void roundTripF32RoundsEachParameterToFloat() {
        for (MlpSpec spec : SPECS) {
            Path file = dir.resolve("f32-" + spec.layers() + ".safetensors");
            double[] params = randomParams(spec, 100 + spec.layers());
            MlpCheckpoint.save(file, spec, params, null, true);
            MlpCheckpoint.Loaded loaded = MlpCheckpoint.load(file);
            assertEquals(spec, loaded.spec());
            double maxError = 0;
            for (int i = 0; i < params.length; i++) {
                assertEquals((double) (float) params[i], loaded.params()[i], 0.0);
                maxError = Math.max(maxError, Math.abs(loaded.params()[i] - params[i]));
            }
            assertEquals("F32", Safetensors.read(file).tensors().get("out.bias").dtype());
            System.out.printf("F32 round trip %s: every param equals its float rounding, max abs error %.2e%n", spec, maxError);
        }
    }

    @Test
    void storesDocumentedNamesAndShapes() {
        MlpSpec spec = new MlpSpec(4, new int[] {7, 3}, Activation.SILU);
        Path file = dir.resolve("shapes.safetensors");
        MlpCheckpoint.save(file, spec, randomParams(spec, 1), Map.of(), false);
        Safetensors.Contents contents = Safetensors.read(file);
        Map<String, long[]> expected = new LinkedHashMap<>();
        expected.put("hidden.0.weight", new long[] {7, 4});
        expected.put("hidden.0.bias", new long[] {7});
        expected.put("hidden.1.weight", new long[] {3, 7});
        expected.put("hidden.1.bias", new long[] {3});
        expected.put("out.weight", new long[] {1, 3});
        expected.put("out.bias", new long[] {1});
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(contents.tensors().keySet()));
        expected.forEach((name, shape) -> assertArrayEquals(shape, contents.tensors().get(name).shape(), name));
        assertEquals("7,3", contents.metadata().get("hidden"));
        assertEquals("silu", contents.metadata().get("activation"));
        System.out.println("stored tensors " + contents.tensors().values() + " with metadata " + contents.metadata());
    }

    /**
     * A checkpoint "from another tool": assembled by hand, tensors in an unusual order in header and buffer, F32,
     * unpadded header, no size metadata, an unrelated metadata key.
     */
    @Test
    void loadsForeignFileWithOtherOrderAndNoOptionalMetadata() throws IOException {
        MlpSpec spec = new MlpSpec(2, new int[] {3, 2}, Activation.TANH);
        double[] params = randomParams(spec, 7);
        String[] headerOrder = {"out.bias", "hidden.1.weight", "hidden.0.bias", "out.weight", "hidden.1.bias", "hidden.0.weight"};
        String[] bufferOrder = {"hidden.1.bias", "out.weight", "hidden.0.weight", "out.bias", "hidden.0.bias", "hidden.1.weight"};
        Map<String, long[]> shapes = Map.of("hidden.0.weight", new long[] {3, 2}, "hidden.0.bias", new long[] {3},
                "hidden.1.weight", new long[] {2, 3}, "hidden.1.bias", new long[] {2}, "out.weight", new long[] {1, 2},
                "out.bias", new long[] {1});
        Map<String, long[]> offsets = new LinkedHashMap<>();
        ByteBuffer buffer = ByteBuffer.allocate(4 * params.length).order(ByteOrder.LITTLE_ENDIAN);
        for (String name : bufferOrder) {
            ParamView view = spec.layout().view(name);
            long begin = buffer.position();
            for (int i = 0; i < view.size(); i++) buffer.putFloat((float) params[view.offset() + i]);
            offsets.put(name, new long[] {begin, buffer.position()});
        }
        StringBuilder header = new StringBuilder("{");
        for (String name : headerOrder) {
            header.append('"').append(name).append("\":{\"dtype\":\"F32\",\"shape\":").append(Arrays.toString(shapes.get(name)))
                    .append(",\"data_offsets\":").append(Arrays.toString(offsets.get(name))).append("},");
            if (name.equals("hidden.0.bias")) header.append("\"__metadata__\":{\"activation\":\"tanh\",\"trainer\":\"elsewhere\",\"format\":\"ebm-mlp-v1\"},");
        }
        header.setCharAt(header.length() - 1, '}');
        if (header.length() % 8 == 0) header.append(' ');
        Path file = dir.resolve("foreign.safetensors");
        SafetensorsTest.writeRaw(file, header.toString(), buffer.array());

        MlpCheckpoint.Loaded loaded = MlpCheckpoint.load(file);
        assertEquals(spec, loaded.spec());
        for (int i = 0; i < params.length; i++) assertEquals((double) (float) params[i], loaded.params()[i], 0.0);
        assertEquals("elsewhere", loaded.metadata().get("trainer"));
        System.out.println("foreign file (header " + header.length() + " bytes, unpadded, buffer order " + Arrays.toString(bufferOrder)
                + ") loaded as " + loaded.spec() + " with all " + params.length + " params in layout order");
    }

    // ------------------------------------------------------------------------------------------------ errors

    private static final MlpSpec BASE = new MlpSpec(3, new int[] {4, 2}, Activation.SOFTPLUS);

    /** The tensors save() would write for BASE, as a mutable list to be spoiled by a test. */
    private static List<Safetensors.Tensor> baseTensors() {
        double[] params = randomParams(BASE, 3);
        List<Safetensors.Tensor> tensors = new ArrayList<>();
        for (ParamView v : BASE.layout().views()) {
            long[] shape = v.name().endsWith("bias") ? new long[] {v.size()} : new long[] {v.rows(), v.cols()};
            tensors.add(Safetensors.Tensor.of(v.name(), shape, Arrays.copyOfRange(params, v.offset(), v.offset() + v.size())));
        }
        return tensors;
    }

    private static Map<String, String> baseMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "ebm-mlp-v1");
        m.put("activation", "softplus");
        return m;
    }

    /** The base metadata with key set to value, or without key when value is null. */
    private static Map<String, String> metadataWith(String key, String value) {
        Map<String, String> m = baseMetadata();
        if (value == null) m.remove(key);
        else m.put(key, value);
        return m;
    }

    private EbmException loadError(Path file, String... expectedParts) {
        EbmException e = assertThrows(EbmException.class, () -> MlpCheckpoint.load(file));
        System.out.println("load error: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one-line message");
        assertTrue(e.getMessage().contains(file.toString()), "message names the file");
        for (String part : expectedParts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
        }
        return e;
    }

    private void assertLoadError(Map<String, String> metadata, List<Safetensors.Tensor> tensors, String... expectedParts) {
        Path file = dir.resolve("bad.safetensors");
        Safetensors.write(file, metadata, tensors, "F64");
        loadError(file, expectedParts);
    }

    private static List<Safetensors.Tensor> without(List<Safetensors.Tensor> tensors, String name) {
        tensors.removeIf(t -> t.name().equals(name));
        return tensors;
    }

    private static List<Safetensors.Tensor> replaced(List<Safetensors.Tensor> tensors, String name, long[] shape) {
        tensors.replaceAll(t -> t.name().equals(name)
                ? Safetensors.Tensor.of(name, shape, new double[(int) Safetensors.elementCount(shape)]) : t);
        return tensors;
    }

    @Test
    void baseCheckpointLoads() {
        Path file = dir.resolve("base.safetensors");
        Safetensors.write(file, baseMetadata(), baseTensors(), "F64");
        assertEquals(BASE, MlpCheckpoint.load(file).spec());
        System.out.println("the unspoiled base checkpoint loads as " + BASE);
    }

    @Test
    void missingFile() {
        loadError(dir.resolve("absent.safetensors"), "does not exist");
    }

    @Test
    void notSafetensors() throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, "model:\n  hidden: [64, 64]\n");
        loadError(file, "not a valid safetensors file");
    }

    @Test
    void formatMissingOrWrong() {
        assertLoadError(metadataWith("format", null), baseTensors(), "no 'format' key", "ebm-mlp-v1");
        assertLoadError(metadataWith("format", "pt"), baseTensors(), "format is 'pt'", "expected 'ebm-mlp-v1'");
        assertLoadError(Map.of(), baseTensors(), "no 'format' key");
    }

    @Test
    void activationMissingOrUnknown() {
        assertLoadError(metadataWith("activation", null), baseTensors(), "no 'activation' key",
                "softplus, silu, tanh, gelu_tanh");
        assertLoadError(metadataWith("activation", "relu"), baseTensors(), "activation is 'relu'",
                "allowed: softplus, silu, tanh, gelu_tanh");
    }

    @Test
    void missingTensor() {
        assertLoadError(baseMetadata(), without(baseTensors(), "out.bias"), "missing tensor out.bias");
        assertLoadError(baseMetadata(), without(baseTensors(), "hidden.1.weight"), "missing tensor hidden.1.weight");
        assertLoadError(baseMetadata(), without(baseTensors(), "hidden.0.bias"), "missing tensor hidden.0.bias");
        List<Safetensors.Tensor> noHidden = baseTensors();
        noHidden.removeIf(t -> t.name().startsWith("hidden."));
        assertLoadError(baseMetadata(), noHidden, "missing tensor hidden.0.weight");
    }

    @Test
    void misshapenTensor() {
        assertLoadError(baseMetadata(), replaced(baseTensors(), "hidden.1.weight", new long[] {2, 5}),
                "tensor hidden.1.weight has shape [2, 5], expected [2, 4]");
        assertLoadError(baseMetadata(), replaced(baseTensors(), "hidden.0.bias", new long[] {1, 4}),
                "tensor hidden.0.bias has shape [1, 4], expected [4]");
        assertLoadError(baseMetadata(), replaced(baseTensors(), "out.weight", new long[] {2}),
                "tensor out.weight has shape [2], expected [1, 2]");
        assertLoadError(baseMetadata(), replaced(baseTensors(), "out.bias", new long[] {}),
                "tensor out.bias has shape [], expected [1]");
        assertLoadError(baseMetadata(), replaced(baseTensors(), "hidden.0.weight", new long[] {12}),
                "tensor hidden.0.weight has shape [12], expected [H_1, D] (2-D)");
        assertLoadError(baseMetadata(), replaced(baseTensors(), "hidden.0.weight", new long[] {0, 3}),
                "tensor hidden.0.weight has shape [0, 3]");
    }

    @Test
    void gapInLayerNumbering() {
        List<Safetensors.Tensor> tensors = baseTensors();
        tensors.replaceAll(t -> t.name().startsWith("hidden.1.")
                ? Safetensors.Tensor.of(t.name().replace("hidden.1.", "hidden.2."), t.shape(), t.data()) : t);
        assertLoadError(baseMetadata(), tensors, "gap in layer numbering", "hidden.2.bias, hidden.2.weight", "no hidden.1.*");
    }

    @Test
    void unexpectedExtraTensors() {
        List<Safetensors.Tensor> tensors = baseTensors();
        tensors.add(Safetensors.Tensor.of("optimizer.m", new long[] {2}, new double[2]));
        tensors.add(Safetensors.Tensor.of("hidden.01.weight", new long[] {1}, new double[1]));
        assertLoadError(baseMetadata(), tensors, "unexpected tensors hidden.01.weight, optimizer.m");
    }

    @Test
    void sizeMetadataDisagreesWithShapes() {
        assertLoadError(metadataWith("input_dim", "5"), baseTensors(), "input_dim=5 disagrees", "give 3");
        assertLoadError(metadataWith("hidden", "4,3"), baseTensors(), "hidden=4,3 disagrees", "give 4,2");
        assertLoadError(metadataWith("hidden", "4,2,2"), baseTensors(), "hidden=4,2,2 disagrees");
        assertLoadError(metadataWith("hidden", "4,x"), baseTensors(), "hidden='4,x' is not a positive integer list");
        Map<String, String> agreeing = baseMetadata();
        agreeing.put("input_dim", "3");
        agreeing.put("hidden", "4, 2");
        Path file = dir.resolve("agree.safetensors");
        Safetensors.write(file, agreeing, baseTensors(), "F64");
        assertEquals(BASE, MlpCheckpoint.load(file).spec());
    }

    @Test
    void nonFiniteValues() {
        List<Safetensors.Tensor> tensors = baseTensors();
        tensors.stream().filter(t -> t.name().equals("hidden.1.weight")).findFirst().orElseThrow().data()[5] = Double.NaN;
        assertLoadError(baseMetadata(), tensors, "tensor hidden.1.weight", "non-finite value (NaN) at flat index 5");
        List<Safetensors.Tensor> infinite = baseTensors();
        infinite.stream().filter(t -> t.name().equals("out.bias")).findFirst().orElseThrow().data()[0] = Double.NEGATIVE_INFINITY;
        assertLoadError(baseMetadata(), infinite, "tensor out.bias", "(-Infinity) at flat index 0");
    }

    @Test
    void saveRefusesWhatLoadWouldRefuse() {
        Path file = dir.resolve("refused.safetensors");
        double[] params = randomParams(BASE, 9);
        params[BASE.layout().view("hidden.0.bias").offset() + 2] = Double.POSITIVE_INFINITY;
        EbmException e = assertThrows(EbmException.class, () -> MlpCheckpoint.save(file, BASE, params, null, false));
        assertTrue(e.getMessage().contains("tensor hidden.0.bias has value Infinity at flat index 2"), e.getMessage());
        double[] huge = randomParams(BASE, 9);
        huge[0] = 1e300;
        e = assertThrows(EbmException.class, () -> MlpCheckpoint.save(file, BASE, huge, null, true));
        assertTrue(e.getMessage().contains("beyond the F32 range"), e.getMessage());
        e = assertThrows(EbmException.class, () -> MlpCheckpoint.save(file, BASE, randomParams(BASE, 1), Map.of("format", "x"), false));
        assertTrue(e.getMessage().contains("'format' is reserved"), e.getMessage());
        assertFalse(Files.exists(file));
        System.out.println("save refused an infinite bias, an F32 overflow and a reserved metadata key; no file written");
    }
}
