package ebm.backend.cuda.bindings;

import ebm.EbmException;
import java.util.Locale;

/**
 * A CUDA driver or cuBLAS call that returned an error. The message is one line naming the call with its arguments,
 * the error's name and its description, e.g.
 * {@code cuMemAlloc_v2(4294967296 bytes for 'hidden.0 activations') failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)}.
 */
public final class CudaException extends EbmException {
    /** CUDA_ERROR_OUT_OF_MEMORY in cuda.h's CUresult. */
    public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;

    private final String call;
    private final int code;
    private final String errorName;

    /**
     * @param call        the call and its arguments, as the message shows them ("cuInit(0)")
     * @param code        the CUresult or cublasStatus_t value
     * @param errorName   its name ("CUDA_ERROR_NO_DEVICE", "CUBLAS_STATUS_INVALID_VALUE")
     * @param description what it means, or null when the library gives none
     */
    public CudaException(String call, int code, String errorName, String description) {
        this(call, code, errorName, description, "");
    }

    /** As above, with more text after the error (a JIT log, advice), still on one line. */
    CudaException(String call, int code, String errorName, String description, String advice) {
        super(call + " failed: " + errorName + (description == null || description.isBlank() ? "" : " (" + description + ")") + advice);
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /**
     * The device-allocation failure, with what to reduce: names the allocation, how much the device has free, how
     * much ebm itself holds, and the config keys that drive device memory.
     */
    public static CudaException outOfMemory(String call, int code, String errorName, String description, long ebmBytes,
                                            int ebmAllocations, long freeBytes, long totalBytes) {
        String where = freeBytes >= 0 && totalBytes > 0
                ? String.format(Locale.ROOT, "; the device has %s free of %s, ebm holds %s in %d allocations", bytes(freeBytes),
                        bytes(totalBytes), bytes(ebmBytes), ebmAllocations)
                : String.format(Locale.ROOT, "; ebm holds %s in %d allocations", bytes(ebmBytes), ebmAllocations);
        return new CudaException(call, code, errorName, description, where
                + "; reduce train.batch_size, model.hidden, or objective.trace / objective.probes (the exact per-dimension"
                + " trace carries D directions per sample; hutchinson and sliced carry objective.probes)");
    }

    /** "4.00 GiB", "12.5 MiB", "512 B". */
    static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, units[u]);
    }

    /** The failing call with its arguments, as in the message. */
    public String call() {
        return call;
    }

    /** The CUresult or cublasStatus_t value. */
    public int code() {
        return code;
    }

    public String errorName() {
        return errorName;
    }
}
