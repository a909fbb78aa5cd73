package ebm.backend.cuda;

/**
 * Hutch++'s per-sample directions on the device, as {@code HutchPlusPlusObjective.directions} builds them on the CPU:
 * from the probes buffer ([B·(s+g) x D], the same Philox draws), Y_b = ∇²E(x_b)·S_b by Hessian-vector products (the
 * x-gradient of Σ vᵀ∇ₓE on a tape of its own, x repeated once per sketch vector, the parameters constants), then
 * kernels/hutchpp.cu turns the sketch rows into an orthonormal basis Q_b of span(Y_b) and projects and scales the g
 * other probes in place. The result is a constant for the loss's tape (Q is not differentiated, as on the CPU).
 */
final class DeviceHutchPlusPlus {
    private DeviceHutchPlusPlus() {}

    /**
     * Overwrites `probes` with the directions; returns the tape of the Hessian-vector products (for its GEMM
     * counts). With no sketch vectors (fewer than three probes) the probes are only scaled by 1/√g.
     */
    static DeviceTape directions(DeviceKernels kernels, Blas blas, DeviceArena arena, DeviceMlp mlp, long params, long x,
                                 int batch, int dim, int sketch, int rest, long probes) {
        DeviceTape tape = new DeviceTape(kernels, blas, arena);
        int perSample = sketch + rest;
        long y = 0;
        if (sketch > 0) {
            int rows = batch * sketch;
            long count = (long) rows * dim;
            long xRep = tape.allocate(count, "Hutch++ repeated batch"), s = tape.allocate(count, "Hutch++ sketch");
            y = tape.allocate(count, "Hutch++ Hessian-vector products");
            tape.fill(y, count, 0f);
            kernels.launch("ebm_hutchpp_sketch_inputs_f32", count, a -> a.i64(x).i64(probes).i64(batch).i64(dim)
                    .i64(sketch).i64(perSample).i64(xRep).i64(s));
            DeviceMlp.Bound energy = mlp.bind(tape, params, 0);
            DeviceNode xs = tape.variable(xRep, y, rows, dim);
            tape.backward(tape.sum(energy.directionalDerivatives(xs, tape.constant(s, rows, dim))));
        }
        long hvp = y;
        float restScale = (float) (1.0 / Math.sqrt(rest));
        int blocks = Math.min(batch, DeviceKernels.MAX_BLOCKS);
        kernels.launch("ebm_hutchpp_directions_f32", blocks, a -> a.i64(hvp).i64(batch).i64(dim).i64(sketch)
                .i64(perSample).f32(restScale).i64(probes));
        return tape;
    }
}
