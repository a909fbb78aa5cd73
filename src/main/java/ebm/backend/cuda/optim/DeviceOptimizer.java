package ebm.backend.cuda.optim;

import ebm.EbmException;
import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import ebm.optim.AdamWOptions;
import ebm.optim.MuonOptions;
import ebm.optim.OptimizerSpec;
import ebm.optim.SgdOptions;
import ebm.optim.ShampooOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The optimizers of the CUDA training step, each the device twin of its ebm.optim class: the same update in fp32,
 * the same state names and layout (so a run resumes on either backend), and everything that changes per step (the
 * step counter, the scheduled learning rate) in device memory, so a captured step replays correctly.
 */
public abstract class DeviceOptimizer {
    protected final KernelLauncher launcher;
    protected final DeviceKernels kernels;

    DeviceOptimizer(KernelLauncher launcher, DeviceKernels kernels) {
        this.launcher = launcher;
        this.kernels = kernels;
    }

    /** The device twin of the optimizer a spec names (every optimizer has one: the switch has no default). */
    public static DeviceOptimizer create(OptimizerSpec spec, ParamLayout layout, KernelLauncher launcher, DeviceKernels kernels,
                                  Blas blas) {
        int size = layout.size();
        return switch (spec) {
            case AdamWOptions o -> new AdamW(launcher, kernels, o, new int[] {0}, new int[] {size});
            case SgdOptions o -> new Sgd(launcher, kernels, o, size);
            case MuonOptions o -> new Muon(launcher, kernels, blas, o, layout);
            case ShampooOptions o -> new DeviceShampoo(launcher, kernels, blas, o, layout);
        };
    }

    /** Writes this step's learning rate(s), base × the schedule's factor, where the kernels read them. */
    public abstract void setLearningRate(double lrScale);

    /**
     * Queues one update of the flat parameters from the flat (clipped) gradient, or, for an optimizer with
     * {@link #hostWork()}, the part of it before that work; {@link #finishStep} queues the rest.
     */
    public abstract void step(long params, long grad);

    /**
     * Whether a step needs the host between {@link #step} and {@link #finishStep} (Shampoo's inverse roots): the
     * training step then captures the two parts as two CUDA graphs and calls {@link #hostWork()} between them.
     */
    public boolean splitsStep() {
        return false;
    }

    /** The host's part of a step, after {@link #step}'s launches were queued and before {@link #finishStep}'s. */
    public void hostWork() {}

    /** Queues the part of the update after {@link #hostWork()}. */
    public void finishStep(long params, long grad) {}

    /**
     * The CPU optimizer's per-step diagnostics of the last step (same keys and definitions, e.g. "adam_v_spread",
     * "muon_orthogonality_error"), computed on the device by the step; only a few floats are read back.
     */
    public abstract Map<String, Double> diagnostics();

    public abstract Map<String, double[]> state();

    public abstract void loadState(Map<String, double[]> state);

    /** Device bytes of optimizer state. */
    public abstract long stateBytes();

    protected void fill(DeviceBuffer buffer, float value) {
        kernels.fill(buffer.address(), buffer.bytes() / 4, value);
    }

    protected double[] read(DeviceBuffer buffer) {
        return launcher.readFloatsAsDoubles(buffer, (int) (buffer.bytes() / 4));
    }

    protected void write(DeviceBuffer buffer, Map<String, double[]> state, String key) {
        double[] values = state.get(key);
        long n = buffer.bytes() / 4;
        if (values == null || values.length != n) {
            throw new EbmException("optimizer state '" + key + "' is " + (values == null ? "missing" : "of length " + values.length)
                    + ", expected " + n + " values");
        }
        launcher.writeAsFloats(buffer, values);
    }

    protected static long counter(Map<String, double[]> state, String key) {
        double[] v = state.get(key);
        if (v == null || v.length != 1) throw new EbmException("optimizer state has no '" + key + "' counter");
        return (long) v[0];
    }

    /** kernels/adamw.cu over ranges of the flat buffer, moments stored compactly over them (as ebm.optim.AdamW). */
    static final class AdamW extends DeviceOptimizer {
        private final double baseLr;
        private final AdamWOptions c;
        private final int[] starts, lengths, compact;
        private final int owned;
        private final DeviceBuffer expAvg, expAvgSq, scalars, rangePartials, range;

        AdamW(KernelLauncher launcher, DeviceKernels kernels, AdamWOptions c, int[] starts, int[] lengths) {
            super(launcher, kernels);
            this.baseLr = c.lr();
            this.c = c;
            this.starts = starts.clone();
            this.lengths = lengths.clone();
            this.compact = new int[starts.length];
            int owned = 0;
            for (int k = 0; k < starts.length; k++) {
                compact[k] = owned;
                owned += lengths[k];
            }
            this.owned = owned;
            expAvg = launcher.allocate(4L * Math.max(1, owned), "AdamW exp_avg");
            expAvgSq = launcher.allocate(4L * Math.max(1, owned), "AdamW exp_avg_sq");
            scalars = launcher.allocate(8L * 9, "AdamW scalars");
            rangePartials = launcher.allocate(8L * RANGE_BLOCKS, "AdamW denominator range partials");
            range = launcher.allocate(8, "AdamW denominator range");
            fill(expAvg, 0f);
            fill(expAvgSq, 0f);
            fill(range, Float.NaN); // no step yet: no spread
            writeScalars(0);
        }

        /** AdamWScalarsInDevice: step, lr, β₁, β₂, eps, λ, then three values the advance kernel fills. */
        private void writeScalars(long steps) {
            MemorySegment s = MemorySegment.ofArray(new long[9]);
            s.set(ValueLayout.JAVA_LONG, 0, steps);
            double[] rest = {baseLr, c.beta1(), c.beta2(), c.eps(), c.weightDecay(), Double.NaN, Double.NaN, Double.NaN};
            for (int i = 0; i < rest.length; i++) s.set(ValueLayout.JAVA_DOUBLE, 8 + 8L * i, rest[i]);
            launcher.copyToDevice(s, scalars);
        }

        @Override
        public void setLearningRate(double lrScale) {
            launcher.copyToDevice(MemorySegment.ofArray(new double[] {baseLr * lrScale}), new DeviceBuffer(scalars.address() + 8, 8));
        }

        @Override
        public void step(long params, long grad) {
            kernels.adamwAdvance(Grid.blocks(1), scalars.address());
            for (int k = 0; k < starts.length; k++) {
                long offset = 4L * starts[k], state = 4L * compact[k], n = lengths[k];
                kernels.adamwStepF32(Grid.over(n), params + offset, grad + offset, expAvg.address() + state,
                        expAvgSq.address() + state, n, scalars.address());
            }
            if (owned > 0) denominatorRange(kernels, expAvgSq, owned, scalars, rangePartials, range);
        }

        /** Block partials of the range reduction: at most this many blocks, so the finishing block sees them all. */
        static final int RANGE_BLOCKS = 256;

        /** range[0..2) = min and max over n moments v of the step's denominators √v/√(1 − β₂ᵗ) + eps. */
        static void denominatorRange(DeviceKernels kernels, DeviceBuffer expAvgSq, long n, DeviceBuffer scalars,
                                     DeviceBuffer partials, DeviceBuffer range) {
            int blocks = Math.min(RANGE_BLOCKS, Grid.blocksFor(n));
            kernels.adamwDenominatorRangeF32(Grid.blocks(blocks), expAvgSq.address(), n, scalars.address(), partials.address());
            kernels.reduceMinMaxF32(Grid.blocks(1), partials.address(), blocks, range.address());
        }

        /** The spread max/min of the last step's denominators, NaN before the first step (as ebm.optim.AdamW). */
        static double spread(KernelLauncher launcher, DeviceBuffer range) {
            float[] r = launcher.readFloats(range, 2);
            return (double) r[1] / r[0];
        }

        /** "adam_v_spread" of the last step, absent before the first (and after a load, until the next step). */
        @Override
        public Map<String, Double> diagnostics() {
            Map<String, Double> diagnostics = new LinkedHashMap<>();
            double spread = owned > 0 ? spread(launcher, range) : Double.NaN;
            if (!Double.isNaN(spread)) diagnostics.put("adam_v_spread", spread);
            return diagnostics;
        }

        long steps() {
            return launcher.readLongs(scalars, 1)[0];
        }

        @Override
        public Map<String, double[]> state() {
            Map<String, double[]> state = new LinkedHashMap<>();
            state.put("step", new double[] {steps()});
            state.put("exp_avg", read(expAvg));
            state.put("exp_avg_sq", read(expAvgSq));
            return state;
        }

        @Override
        public void loadState(Map<String, double[]> state) {
            long steps = counter(state, "step");
            write(expAvg, state, "exp_avg");
            write(expAvgSq, state, "exp_avg_sq");
            writeScalars(steps);
            fill(range, Float.NaN);
        }

        @Override
        public long stateBytes() {
            return expAvg.bytes() + expAvgSq.bytes();
        }
    }

    /** kernels/sgd.cu over the whole flat buffer (as ebm.optim.Sgd). */
    static final class Sgd extends DeviceOptimizer {
        private final SgdOptions c;
        private final long size;
        private final DeviceBuffer momentumBuffer, scalars;

        Sgd(KernelLauncher launcher, DeviceKernels kernels, SgdOptions c, int size) {
            super(launcher, kernels);
            this.c = c;
            this.size = size;
            momentumBuffer = c.momentum() != 0 ? launcher.allocate(4L * size, "SGD momentum buffer") : null;
            scalars = launcher.allocate(8L * 6, "SGD scalars");
            if (momentumBuffer != null) fill(momentumBuffer, 0f);
            writeScalars(0);
        }

        /** SgdScalarsInDevice: step, lr, momentum, dampening, weight decay, nesterov. */
        private void writeScalars(long steps) {
            MemorySegment s = MemorySegment.ofArray(new long[6]);
            s.set(ValueLayout.JAVA_LONG, 0, steps);
            s.set(ValueLayout.JAVA_DOUBLE, 8, c.lr());
            s.set(ValueLayout.JAVA_DOUBLE, 16, c.momentum());
            s.set(ValueLayout.JAVA_DOUBLE, 24, c.dampening());
            s.set(ValueLayout.JAVA_DOUBLE, 32, c.weightDecay());
            s.set(ValueLayout.JAVA_INT, 40, c.nesterov() ? 1 : 0);
            launcher.copyToDevice(s, scalars);
        }

        @Override
        public void setLearningRate(double lrScale) {
            launcher.copyToDevice(MemorySegment.ofArray(new double[] {c.lr() * lrScale}), new DeviceBuffer(scalars.address() + 8, 8));
        }

        @Override
        public void step(long params, long grad) {
            long buffer = momentumBuffer == null ? 0 : momentumBuffer.address();
            kernels.sgdStepF32(Grid.over(size), params, grad, buffer, size, scalars.address());
            kernels.sgdAdvance(Grid.blocks(1), scalars.address());
        }

        /** None, as ebm.optim.Sgd. */
        @Override
        public Map<String, Double> diagnostics() {
            return Map.of();
        }

        @Override
        public Map<String, double[]> state() {
            Map<String, double[]> state = new LinkedHashMap<>();
            state.put("step", new double[] {launcher.readLongs(scalars, 1)[0]});
            if (momentumBuffer != null) state.put("momentum_buffer", read(momentumBuffer));
            return state;
        }

        @Override
        public void loadState(Map<String, double[]> state) {
            long steps = counter(state, "step");
            if (momentumBuffer != null) write(momentumBuffer, state, "momentum_buffer");
            writeScalars(steps);
        }

        @Override
        public long stateBytes() {
            return momentumBuffer == null ? 0 : momentumBuffer.bytes();
        }
    }

    /**
     * Muon (as ebm.optim.Muon): per Muon matrix, momentum and Nesterov in one kernel, the quintic Newton–Schulz
     * iteration ({@link DeviceNewtonSchulz}: device norm, wide orientation, coefficients in GEMM α/β) with its
     * orthogonality error, then the scaled, decayed update; every other parameter goes to an inner AdamW with
     * optimizer.adam_lr.
     */
    static final class Muon extends DeviceOptimizer {
        private final MuonOptions c;
        private final List<ParamView> views;
        private final int[] momentumOffsets;
        private final int buffered;
        private final DeviceBuffer momentum, update, scalars, errors;
        private final DeviceNewtonSchulz newtonSchulz;
        private final AdamW inner;

        Muon(KernelLauncher launcher, DeviceKernels kernels, Blas blas, MuonOptions c, ParamLayout layout) {
            super(launcher, kernels);
            this.c = c;
            List<ParamView> toMuon = new ArrayList<>();
            List<ParamView> toAdam = new ArrayList<>();
            for (ParamView view : layout.views()) {
                boolean orthogonalise = view.role() == ParamView.Role.HIDDEN_WEIGHT
                        || (view.role() == ParamView.Role.FIRST_WEIGHT && c.muonFirstLayer());
                (orthogonalise ? toMuon : toAdam).add(view);
            }
            views = List.copyOf(toMuon);
            momentumOffsets = new int[views.size()];
            int total = 0, largest = 1, largestGram = 1;
            for (int k = 0; k < views.size(); k++) {
                ParamView v = views.get(k);
                momentumOffsets[k] = total;
                total += v.size();
                largest = Math.max(largest, v.size());
                int small = Math.min(v.rows(), v.cols());
                largestGram = Math.max(largestGram, small * small);
            }
            buffered = total;
            momentum = launcher.allocate(4L * Math.max(1, buffered), "Muon momentum");
            update = launcher.allocate(4L * largest, "Muon update");
            newtonSchulz = new DeviceNewtonSchulz(launcher, kernels, blas, largest, largestGram);
            scalars = launcher.allocate(16, "Muon scalars");
            errors = launcher.allocate(4L * Math.max(1, views.size()), "Muon orthogonality errors");
            fill(momentum, 0f);
            fill(errors, Float.NaN); // no step yet
            int[] starts = new int[toAdam.size()], lengths = new int[toAdam.size()];
            for (int k = 0; k < toAdam.size(); k++) {
                starts[k] = toAdam.get(k).offset();
                lengths[k] = toAdam.get(k).size();
            }
            inner = new AdamW(launcher, kernels, c.inner(), starts, lengths);
            setLearningRate(1.0);
        }

        @Override
        public void setLearningRate(double lrScale) {
            launcher.copyToDevice(MemorySegment.ofArray(new double[] {c.lr() * lrScale, c.weightDecay()}), scalars);
            inner.setLearningRate(lrScale);
        }

        @Override
        public void step(long params, long grad) {
            float mu = (float) c.momentum();
            int nesterov = c.nesterov() ? 1 : 0;
            for (int v = 0; v < views.size(); v++) {
                ParamView view = views.get(v);
                long n = view.size(), offset = 4L * view.offset(), buffer = momentum.address() + 4L * momentumOffsets[v];
                int rows = view.rows(), cols = view.cols();
                kernels.muonMomentumF32(Grid.over(n), grad + offset, buffer, n, mu, nesterov, update.address());
                long o = newtonSchulz.orthogonalise(update.address(), rows, cols, c.nsSteps(), errors.address() + 4L * v);
                float scale = (float) Math.sqrt(Math.max(1.0, (double) rows / cols));
                kernels.muonApplyF32(Grid.over(n), params + offset, o, n, scalars.address(), scale);
            }
            inner.step(params, grad);
        }

        /**
         * "muon_orthogonality_error": the largest ‖XXᵀ − I‖_F/√n over the Muon matrices (n the small side), as
         * ebm.optim.Muon (which skips a NaN only when it comes first), and the inner AdamW's diagnostics.
         */
        @Override
        public Map<String, Double> diagnostics() {
            Map<String, Double> diagnostics = new LinkedHashMap<>();
            double worst = Double.NaN;
            if (!views.isEmpty()) {
                float[] squares = launcher.readFloats(errors, views.size());
                for (int v = 0; v < views.size(); v++) {
                    double error = Math.sqrt(squares[v] / (double) Math.min(views.get(v).rows(), views.get(v).cols()));
                    worst = Double.isNaN(worst) ? error : Math.max(worst, error);
                }
            }
            if (!Double.isNaN(worst)) diagnostics.put("muon_orthogonality_error", worst);
            diagnostics.putAll(inner.diagnostics());
            return diagnostics;
        }

        @Override
        public Map<String, double[]> state() {
            Map<String, double[]> state = new LinkedHashMap<>();
            Map<String, double[]> innerState = inner.state();
            state.put("step", innerState.get("step").clone()); // the inner AdamW counts Muon's steps
            state.put("muon_momentum", java.util.Arrays.copyOf(read(momentum), buffered));
            innerState.forEach((key, value) -> state.put("adamw." + key, value));
            return state;
        }

        @Override
        public void loadState(Map<String, double[]> state) {
            counter(state, "step");
            Map<String, double[]> innerState = new LinkedHashMap<>();
            state.forEach((key, value) -> {
                if (key.startsWith("adamw.")) innerState.put(key.substring("adamw.".length()), value);
            });
            if (buffered > 0) write(momentum, state, "muon_momentum");
            else if (state.get("muon_momentum") == null || state.get("muon_momentum").length != 0) {
                throw new EbmException("optimizer state 'muon_momentum' must be empty for a model without Muon matrices");
            }
            inner.loadState(innerState);
            fill(errors, Float.NaN);
        }

        @Override
        public long stateBytes() {
            return momentum.bytes() + inner.stateBytes();
        }
    }
}
