package ebm.backend.cuda.runtime;

/** The fp64 ↔ fp32 conversions at the boundary between the CPU reference (fp64) and device buffers (fp32). */
public final class Fp32 {
    private Fp32() {}

    public static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (float) values[i];
        return out;
    }

    public static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) out[i] = values[i];
        return out;
    }
}
