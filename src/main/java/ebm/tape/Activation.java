package ebm.tape;

import ebm.ConfigNames;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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
     * agrees with {@link #derivative} to rounding. Softplus and SiLU take e^−|z| and log(1 + e) from
     * {@link #expNonPositive} and {@link #log1pUnit}, the same operations as the array form's lanes, so an element
     * has the same bits whichever path computed it.
     */
    public void derivatives(double z, double[] out) {
        switch (this) {
            case SOFTPLUS -> {
                double e = expNonPositive(-Math.abs(z));
                double r = 1 / (1 + e), s = z >= 0 ? r : e * r;
                double p = s * (1 - s);
                out[0] = Math.max(z, 0.0) + log1pUnit(e);
                out[1] = s;
                out[2] = p;
                out[3] = p * (1 - 2 * s);
            }
            case SILU -> {
                double e = expNonPositive(-Math.abs(z));
                double r = 1 / (1 + e), s = z >= 0 ? r : e * r;
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

    private static final VectorSpecies<Double> LANES = DoubleVector.SPECIES_PREFERRED;

    /**
     * σ, σ′, σ″, σ‴ of every z[i] into out[0..3][i]. Softplus and SiLU run in vector lanes throughout, their
     * exponential and logarithm included: polynomials of add, multiply, divide and FMA, each exactly rounded, so the
     * bits are the same in every JIT tier and for every lane width (the Vector API's own EXP/LOG1P are not).
     */
    public void derivatives(double[] z, double[][] out) {
        int n = z.length, i = 0;
        if (this == SOFTPLUS || this == SILU) {
            // three passes, each a loop with no calls inside: a vector passed to or returned from a method the JIT
            // did not inline becomes a boxed object (the polynomials as vector-valued helpers cost a tenth of a step)
            int end = n - n % LANES.length();
            double[] e = out[3]; // scratch: e^−|z|, overwritten with σ‴ in the last pass
            expOfMinusAbs(z, e, end);
            if (this == SOFTPLUS) softplusValues(z, e, out[0], end);
            sigmoidTerms(this == SOFTPLUS, z, e, out, end);
            i = end;
        }
        double[] d = new double[4];
        for (; i < n; i++) {
            derivatives(z[i], d);
            for (int k = 0; k < 4; k++) out[k][i] = d[k];
        }
    }

    /**
     * From e = e^−|z|, the logistic s = 1/(1 + e^−z) and from it σ′, σ″, σ‴ of softplus (softplus) or σ, σ′, σ″, σ‴
     * of SiLU into out, for i below end (a multiple of the lane count), lane by lane; e may be out[3].
     */
    private static void sigmoidTerms(boolean softplus, double[] z, double[] e, double[][] out, int end) {
        DoubleVector one = V_ONE, two = V_TWO;
        for (int i = 0; i < end; i += LANES.length()) {
            DoubleVector x = DoubleVector.fromArray(LANES, z, i);
            DoubleVector ev = DoubleVector.fromArray(LANES, e, i);
            DoubleVector r = one.div(one.add(ev));
            DoubleVector s = ev.mul(r).blend(r, x.compare(VectorOperators.GE, 0.0));
            DoubleVector p = s.mul(one.sub(s));
            DoubleVector q = one.sub(s.mul(two)); // 1 − 2s
            if (softplus) {
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

    // e^x for x ≤ 0: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite, ln2 in two parts), e^r by its Taylor polynomial to
    // r¹³ (truncation below 2e-17 relative), times 2ⁿ built in the exponent bits. x is clamped at log(2^−1022), where
    // 2ⁿ stops being a normal number: below it the result is ≈ 2.2e-308 instead of a subnormal or zero.
    private static final double LOG2E = 1.4426950408889634;
    private static final double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    private static final double SHIFTER = 0x1.8p52; // adding it rounds x·log2e to an integer kept in the low bits
    private static final long SHIFTER_BITS = Double.doubleToRawLongBits(SHIFTER);
    private static final double EXP_MIN = -708.3964185322641; // log(Double.MIN_NORMAL)
    private static final double[] EXP_TAYLOR = new double[14];

    static {
        double factorial = 1;
        for (int k = 0; k < EXP_TAYLOR.length; k++) {
            if (k > 0) factorial *= k;
            EXP_TAYLOR[k] = 1 / factorial;
        }
    }

    /** e^x for x ≤ 0 to about an ulp, from exactly rounded operations only (see the constants above). */
    static double expNonPositive(double x) {
        double xc = Math.max(x, EXP_MIN);
        double t = Math.fma(xc, LOG2E, SHIFTER);
        double n = t - SHIFTER;
        double r = Math.fma(n, -LN2_LO, Math.fma(n, -LN2_HI, xc));
        double p = EXP_TAYLOR[EXP_TAYLOR.length - 1];
        for (int k = EXP_TAYLOR.length - 2; k >= 0; k--) p = Math.fma(p, r, EXP_TAYLOR[k]);
        long k = Double.doubleToRawLongBits(t) - SHIFTER_BITS;
        return p * Double.longBitsToDouble((k + 1023) << 52);
    }

    /** e[i] = {@link #expNonPositive}(−|z[i]|) for i below end (a multiple of the lane count), lane by lane. */
    private static void expOfMinusAbs(double[] z, double[] e, int end) {
        for (int i = 0; i < end; i += LANES.length()) {
            DoubleVector xc = DoubleVector.fromArray(LANES, z, i).abs().neg().max(EXP_MIN);
            DoubleVector t = xc.fma(V_LOG2E, V_SHIFTER);
            DoubleVector n = t.sub(V_SHIFTER);
            DoubleVector r = n.fma(V_MINUS_LN2_LO, n.fma(V_MINUS_LN2_HI, xc));
            DoubleVector p = EXP_V[13]; // Horner unrolled: as a loop over EXP_V the JIT kept the vectors boxed (7× the profile samples)
            p = p.fma(r, EXP_V[12]);
            p = p.fma(r, EXP_V[11]);
            p = p.fma(r, EXP_V[10]);
            p = p.fma(r, EXP_V[9]);
            p = p.fma(r, EXP_V[8]);
            p = p.fma(r, EXP_V[7]);
            p = p.fma(r, EXP_V[6]);
            p = p.fma(r, EXP_V[5]);
            p = p.fma(r, EXP_V[4]);
            p = p.fma(r, EXP_V[3]);
            p = p.fma(r, EXP_V[2]);
            p = p.fma(r, EXP_V[1]);
            p = p.fma(r, EXP_V[0]);
            LongVector k = t.reinterpretAsLongs().sub(SHIFTER_BITS);
            p.mul(k.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles()).intoArray(e, i);
        }
    }

    // log(1 + e) for e in [0, 1]: with g = e, or g = (e − 1)/2 (exact) and ln2 added when e > √2 − 1, so that
    // g ∈ (−0.293, 0.415]; then log(1 + g) = 2s + 2s³/3 + 2s⁵/5 + … with s = g/(2 + g), |s| ≤ 0.172, to s²⁵.
    private static final double SQRT2_MINUS_1 = 0.41421356237309503;
    private static final double[] ATANH_SERIES = new double[12]; // 2/3, 2/5, …, 2/25

    static {
        for (int k = 0; k < ATANH_SERIES.length; k++) ATANH_SERIES[k] = 2.0 / (2 * k + 3);
    }

    /** log(1 + e) for e in [0, 1] to about an ulp, from exactly rounded operations only. */
    static double log1pUnit(double e) {
        boolean halve = e > SQRT2_MINUS_1;
        double g = halve ? (e - 1) * 0.5 : e;
        double s = g / (2 + g), z = s * s;
        double p = ATANH_SERIES[ATANH_SERIES.length - 1];
        for (int k = ATANH_SERIES.length - 2; k >= 0; k--) p = Math.fma(p, z, ATANH_SERIES[k]);
        double log = Math.fma(s * z, p, 2 * s);
        return halve ? LN2_HI + (LN2_LO + log) : log;
    }

    /** y[i] = max(z[i], 0) + {@link #log1pUnit}(e[i]) for i below end (softplus), lane by lane. */
    private static void softplusValues(double[] zs, double[] es, double[] y, int end) {
        for (int i = 0; i < end; i += LANES.length()) {
            DoubleVector e = DoubleVector.fromArray(LANES, es, i);
            VectorMask<Double> halve = e.compare(VectorOperators.GT, SQRT2_MINUS_1);
            DoubleVector g = e.blend(e.sub(1.0).mul(0.5), halve);
            DoubleVector s = g.div(g.add(2.0)), z = s.mul(s);
            DoubleVector p = ATANH_V[11]; // unrolled, as in expOfMinusAbs
            p = p.fma(z, ATANH_V[10]);
            p = p.fma(z, ATANH_V[9]);
            p = p.fma(z, ATANH_V[8]);
            p = p.fma(z, ATANH_V[7]);
            p = p.fma(z, ATANH_V[6]);
            p = p.fma(z, ATANH_V[5]);
            p = p.fma(z, ATANH_V[4]);
            p = p.fma(z, ATANH_V[3]);
            p = p.fma(z, ATANH_V[2]);
            p = p.fma(z, ATANH_V[1]);
            p = p.fma(z, ATANH_V[0]);
            DoubleVector log = s.mul(z).fma(p, s.mul(2.0));
            DoubleVector.fromArray(LANES, zs, i).max(0.0).add(log.blend(log.add(LN2_LO).add(LN2_HI), halve)).intoArray(y, i);
        }
    }

    private static final DoubleVector V_ONE = DoubleVector.broadcast(LANES, 1.0), V_TWO = DoubleVector.broadcast(LANES, 2.0);
    private static final DoubleVector V_LOG2E = DoubleVector.broadcast(LANES, LOG2E), V_SHIFTER = DoubleVector.broadcast(LANES, SHIFTER);
    private static final DoubleVector V_MINUS_LN2_HI = DoubleVector.broadcast(LANES, -LN2_HI);
    private static final DoubleVector V_MINUS_LN2_LO = DoubleVector.broadcast(LANES, -LN2_LO);
    private static final DoubleVector[] EXP_V = broadcastAll(EXP_TAYLOR), ATANH_V = broadcastAll(ATANH_SERIES);

    private static DoubleVector[] broadcastAll(double[] values) {
        DoubleVector[] out = new DoubleVector[values.length];
        for (int k = 0; k < values.length; k++) out[k] = DoubleVector.broadcast(LANES, values[k]);
        return out;
    }

    private static IllegalArgumentException badOrder(int order) {
        return new IllegalArgumentException("activation derivative order must be 0..3, got " + order);
    }
}
