package ebm.config;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One training run, as read from a YAML file plus --set overrides. Every section fills its defaults and checks its
 * ranges in its constructor, so a RunConfig that exists is valid; the resolved form is saved beside the results.
 */
@JsonPropertyOrder({"seed", "backend", "precision", "data", "model", "objective", "optimizer", "train"})
public record RunConfig(Long seed, String backend, String precision, DataConfig data, ModelConfig model, ObjectiveConfig objective,
                        OptimizerConfig optimizer, TrainConfig train) {

    public RunConfig {
        seed = seed == null ? 0L : seed;
        backend = backend == null ? "cpu" : backend;
        Check.oneOf("backend", backend, "cpu", "cuda", "cuda-emulated");
        // the CUDA backends' GEMM mode; the CPU computes in fp64 and takes only the default, so that no run on it
        // claims a precision it did not use
        precision = precision == null ? "fp32" : precision;
        Check.oneOf("precision", precision, "fp32", "tf32", "bf16");
        if (backend.equals("cpu") && !precision.equals("fp32")) {
            throw new ebm.EbmException("precision: " + precision + " selects the GEMM mode of backend cuda or cuda-emulated; "
                    + "backend cpu computes in fp64 (leave precision at fp32 there)");
        }
        data = data == null ? new DataConfig(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null) : data;
        model = model == null ? new ModelConfig(null, null, null, null) : model;
        objective = objective == null ? new ObjectiveConfig(null, null, null, null, null, null, null, null) : objective;
        optimizer = optimizer == null ? OptimizerConfig.defaults() : optimizer;
        train = train == null ? new TrainConfig(null, null, null, null, null, null, null, null) : train;
    }
}
