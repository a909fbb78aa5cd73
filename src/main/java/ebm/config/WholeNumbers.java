package ebm.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.std.NumberDeserializers;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;

/**
 * Integer config keys (Integer and Long) from YAML numbers: a whole number written as a float (20.0) is that
 * integer, a fractional one (20.5) is an error instead of Jackson's default truncation to 20.
 */
final class WholeNumbers {
    private WholeNumbers() {}

    static final SimpleModule MODULE = new SimpleModule("ebm-whole-numbers")
            .addDeserializer(Integer.class, new Whole<>(Integer.class, new NumberDeserializers.IntegerDeserializer(Integer.class, null),
                    Integer.MIN_VALUE, Integer.MAX_VALUE))
            .addDeserializer(Long.class, new Whole<>(Long.class, new NumberDeserializers.LongDeserializer(Long.class, null),
                    -0x1p63, 0x1p63));

    private static final class Whole<T extends Number> extends JsonDeserializer<T> {
        private final Class<T> type;
        private final JsonDeserializer<T> plain;
        private final double min;
        private final double maxExclusive;

        Whole(Class<T> type, JsonDeserializer<T> plain, double min, double max) {
            this.type = type;
            this.plain = plain;
            this.min = min;
            this.maxExclusive = type == Integer.class ? max + 1.0 : max;
        }

        @Override
        @SuppressWarnings("unchecked")
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() == JsonToken.VALUE_NUMBER_FLOAT) {
                double v = p.getDoubleValue();
                if (v != Math.rint(v) || !(v >= min && v < maxExclusive)) {
                    return (T) ctxt.handleWeirdNumberValue(type, v, "not a whole number");
                }
                return type == Integer.class ? (T) Integer.valueOf((int) v) : (T) Long.valueOf((long) v);
            }
            return plain.deserialize(p, ctxt);
        }

        @Override
        public T getNullValue(DeserializationContext ctxt) {
            return null;
        }
    }
}
