package ebm.tape;

import ebm.ConfigNames;

/**
 * Hidden-layer activations with their first three derivatives. σ‴ is needed to train through the Laplacian:
 * ΔE uses σ″, and its parameter gradient differentiates σ″ once more.
 */
public enum Activation {
    SOFTPLUS,
    SILU,
    TANH,
    GELU_TANH;

    private static final double GELU_K = Math.sqrt(2.0 / Math.PI);
    private static final double GELU_A = 0.044715;

    /** As configs spell it: softplus, silu, tanh, gelu_tanh. */
    public String configName() {
        return ConfigNames.of(this, false);
    }

    public static Activation parse(String name) {
        return ConfigNames.parse(values(), Activation::configName, "activation", name);
    }

    private static double sigmoid(double z) {
        if (z >= 0) return 1.0 / (1.0 + Math.exp(-z));
        double e = Math.exp(z);
        return e / (1.0 + e);
    }

    /** The order-th derivative of σ at z, order in 0..3. */
    public double derivative(int order, double z) {
        return switch (this) {
            case SOFTPLUS -> {
                if (order == 0) yield Math.max(z, 0.0) + Math.log1p(Math.exp(-Math.abs(z)));
                double s = sigmoid(z);
                yield switch (order) {
                    case 1 -> s;
                    case 2 -> s * (1 - s);
                    case 3 -> s * (1 - s) * (1 - 2 * s);
                    default -> throw badOrder(order);
                };
            }
            case SILU -> {
                double s = sigmoid(z);
                double p = s * (1 - s);
                yield switch (order) {
                    case 0 -> z * s;
                    case 1 -> s + z * p;
                    case 2 -> p * (2 + z * (1 - 2 * s));
                    case 3 -> p * ((1 - 2 * s) * (3 + z * (1 - 2 * s)) - 2 * z * p);
                    default -> throw badOrder(order);
                };
            }
            case TANH -> {
                double t = Math.tanh(z);
                double s = 1 - t * t;
                yield switch (order) {
                    case 0 -> t;
                    case 1 -> s;
                    case 2 -> -2 * t * s;
                    case 3 -> -2 * s * (1 - 3 * t * t);
                    default -> throw badOrder(order);
                };
            }
            case GELU_TANH -> {
                // f = z (1 + tanh u) / 2 with u = k (z + a z^3); S = sech^2 u.
                double u = GELU_K * (z + GELU_A * z * z * z);
                double du = GELU_K * (1 + 3 * GELU_A * z * z);
                double ddu = 6 * GELU_A * GELU_K * z;
                double dddu = 6 * GELU_A * GELU_K;
                double t = Math.tanh(u);
                double s = 1 - t * t;
                yield switch (order) {
                    case 0 -> 0.5 * z * (1 + t);
                    case 1 -> 0.5 * (1 + t) + 0.5 * z * s * du;
                    case 2 -> s * du + 0.5 * z * s * (ddu - 2 * t * du * du);
                    case 3 -> {
                        double inner = ddu - 2 * t * du * du;
                        yield 1.5 * s * inner
                                + 0.5 * z * s * (-2 * t * du * inner + dddu - 2 * s * du * du * du - 4 * t * du * ddu);
                    }
                    default -> throw badOrder(order);
                };
            }
        };
    }

    /**
     * σ, σ′, σ″, σ‴ at z into out[0..3] with one transcendental evaluation (the hot path of every layer);
     * agrees with {@link #derivative} to rounding.
     */
    public void derivatives(double z, double[] out) {
        switch (this) {
            case SOFTPLUS -> {
                double e = Math.exp(-Math.abs(z));
                double s = z >= 0 ? 1 / (1 + e) : e / (1 + e);
                double p = s * (1 - s);
                out[0] = Math.max(z, 0.0) + log1pSmall(e);
                out[1] = s;
                out[2] = p;
                out[3] = p * (1 - 2 * s);
            }
            case SILU -> {
                double e = Math.exp(-Math.abs(z));
                double s = z >= 0 ? 1 / (1 + e) : e / (1 + e);
                double p = s * (1 - s);
                out[0] = z * s;
                out[1] = s + z * p;
                out[2] = p * (2 + z * (1 - 2 * s));
                out[3] = p * ((1 - 2 * s) * (3 + z * (1 - 2 * s)) - 2 * z * p);
            }
            default -> {
                for (int k = 0; k < 4; k++) out[k] = derivative(k, z);
            }
        }
    }

    private static final jdk.incubator.vector.VectorSpecies<Double> LANES = jdk.incubator.vector.DoubleVector.SPECIES_PREFERRED;

    /**
     * σ, σ′, σ″, σ‴ of every z[i] into out[0..3][i]. For softplus and SiLU the transcendental part is scalar
     * (Math.exp and Math.log give the same bits in every JIT tier, which the Vector API's EXP/LOG1P do not, and
     * runs must be bitwise reproducible); the rest is plain vector arithmetic, exactly rounded in any tier.
     */
    public void derivatives(double[] z, double[][] out) {
        int n = z.length, i = 0;
        if (this == SOFTPLUS || this == SILU) {
            double[] e = out[3]; // scratch: exp(−|z|), overwritten with σ‴ below
            for (int k = 0; k < n; k++) e[k] = Math.exp(-Math.abs(z[k]));
            if (this == SOFTPLUS) {
                for (int k = 0; k < n; k++) out[0][k] = Math.max(z[k], 0.0) + log1pSmall(e[k]);
            }
            var one = jdk.incubator.vector.DoubleVector.broadcast(LANES, 1.0);
            var two = jdk.incubator.vector.DoubleVector.broadcast(LANES, 2.0);
            for (; i <= n - LANES.length(); i += LANES.length()) {
                var x = jdk.incubator.vector.DoubleVector.fromArray(LANES, z, i);
                var ev = jdk.incubator.vector.DoubleVector.fromArray(LANES, e, i);
                var r = one.div(one.add(ev));
                var s = ev.mul(r).blend(r, x.compare(jdk.incubator.vector.VectorOperators.GE, 0.0));
                var p = s.mul(one.sub(s));
                var q = one.sub(s.mul(two)); // 1 − 2s
                if (this == SOFTPLUS) {
                    s.intoArray(out[1], i);
                    p.intoArray(out[2], i);
                    p.mul(q).intoArray(out[3], i);
                } else {
                    x.mul(s).intoArray(out[0], i);
                    s.add(x.mul(p)).intoArray(out[1], i);
                    p.mul(two.add(x.mul(q))).intoArray(out[2], i);
                    p.mul(q.mul(x.mul(q).add(3.0)).sub(x.mul(p).mul(2.0))).intoArray(out[3], i);
                }
            }
        }
        double[] d = new double[4];
        for (; i < n; i++) {
            derivatives(z[i], d);
            for (int k = 0; k < 4; k++) out[k][i] = d[k];
        }
    }

    /**
     * log(1 + e) for e in [0, 1] to a few ulps through the intrinsic log (Goldberg's "what every computer scientist
     * should know", theorem 4): StrictMath.log1p was a tenth of a small model's training step.
     */
    private static double log1pSmall(double e) {
        double u = 1 + e;
        return u == 1 ? e : Math.log(u) * (e / (u - 1));
    }

    private static IllegalArgumentException badOrder(int order) {
        return new IllegalArgumentException("activation derivative order must be 0..3, got " + order);
    }
}
