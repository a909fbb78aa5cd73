package ebm.config;

import static ebm.config.Check.or;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One training run, as read from a YAML file plus --set overrides. Every section fills its defaults and checks its
 * ranges in its constructor, so a RunConfig that exists is valid; the resolved form is saved beside the results.
 * The backend is parsed here, once, into a {@link BackendKind}; the file keeps its name (cpu, cuda, cuda-emulated).
 */
@JsonPropertyOrder({"seed", "backend", "precision", "data", "model", "objective", "optimizer", "train"})
public record RunConfig(Long seed, BackendKind backend, String precision, DataConfig data, ModelConfig model, ObjectiveConfig objective,
                        OptimizerConfig optimizer, TrainConfig train) {

    public RunConfig {
        seed = seed == null ? 0L : seed;
        backend = backend == null ? BackendKind.CPU : backend;
        // the CUDA backends' GEMM mode; the CPU computes in fp64, which is what its config records, so that no run on
        // it claims a precision it did not use (an older config.yaml of a cpu run says fp32, then the only value
        // allowed: it reads as fp64)
        if (backend == BackendKind.CPU) {
            precision = or(precision, "fp64");
            if (precision.equals("fp32")) precision = "fp64";
            if (!precision.equals("fp64")) {
                Check.oneOf("precision", precision, "fp32", "tf32", "bf16", "fp64");
                throw new ebm.EbmException("precision: " + precision + " selects the GEMM mode of backend cuda or "
                        + "cuda-emulated; backend cpu computes in fp64 (leave precision out there, or set fp64)");
            }
        } else {
            precision = Check.oneOf("precision", or(precision, "fp32"), "fp32", "tf32", "bf16");
        }
        data = data == null ? new DataConfig(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null) : data;
        model = model == null ? new ModelConfig(null, null, null, null) : model;
        objective = objective == null ? new ObjectiveConfig(null, null, null, null, null, null, null, null) : objective;
        optimizer = optimizer == null ? OptimizerConfig.defaults() : optimizer;
        train = train == null ? TrainConfig.defaults() : train;
        if (backend != BackendKind.CPU && train.accumulate() > 1) {
            // the CUDA step is one captured graph over the whole batch (two half-batches for the noise estimate)
            throw new ebm.EbmException("train.accumulate: " + train.accumulate() + " needs backend cpu; backend "
                    + backend.configName() + " runs the whole batch in one step (set train.accumulate: 1)");
        }
        if (!data.name().equals("file") && train.batchSize() > data.nTrain()) {
            throw new ebm.EbmException("train.batch_size: must be <= data.n_train (" + data.nTrain() + "), got "
                    + train.batchSize());
        }
    }

    /**
     * How the YAML is read: as the canonical constructor, with `backend` taken as its text and parsed after every
     * section (so a bad backend is reported where, and with the message, it always was).
     */
    @JsonCreator
    static RunConfig fromYaml(@JsonProperty("seed") Long seed, @JsonProperty("backend") String backend,
                              @JsonProperty("precision") String precision, @JsonProperty("data") DataConfig data,
                              @JsonProperty("model") ModelConfig model, @JsonProperty("objective") ObjectiveConfig objective,
                              @JsonProperty("optimizer") OptimizerConfig optimizer, @JsonProperty("train") TrainConfig train) {
        return new RunConfig(seed, backend == null ? null : BackendKind.parse("backend", backend), precision, data, model,
                objective, optimizer, train);
    }
}
