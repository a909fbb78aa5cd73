package ebm.backend.cuda.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import org.junit.jupiter.api.Test;

/** Error messages: one line naming the call, the error's name and its meaning. */
class CudaExceptionTest {

    @Test
    void namesCallErrorAndMeaning() {
        CudaException e = new CudaException("cuMemAlloc_v2(4294967296 bytes for 'hidden.0 activations')", 2,
                "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        assertEquals("cuMemAlloc_v2(4294967296 bytes for 'hidden.0 activations') failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)",
                e.getMessage());
        assertTrue(e instanceof EbmException, "the CLI prints it as one line");
        assertEquals(2, e.code());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        assertEquals("cuInit(0) failed: CUresult 999", new CudaException("cuInit(0)", 999, "CUresult 999", null).getMessage());
    }

    @Test
    void outOfMemorySaysWhatToReduce() {
        CudaException e = CudaException.outOfMemory("cuMemAlloc_v2(4294967296 bytes for 'hidden.0 activations')", 2,
                "CUDA_ERROR_OUT_OF_MEMORY", "out of memory", 3L << 30, 17, 1L << 29, 80L << 30);
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().startsWith("cuMemAlloc_v2(4294967296 bytes for 'hidden.0 activations') failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory); "
                + "the device has 512 MiB free of 80.0 GiB, ebm holds 3.00 GiB in 17 allocations; reduce train.batch_size, model.hidden, or objective.trace / objective.probes"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void byteSizes() {
        assertEquals("512 B", CudaException.bytes(512));
        assertEquals("1.50 KiB", CudaException.bytes(1536));
        assertEquals("32.0 MiB", CudaException.bytes(32L << 20));
        assertEquals("139 GiB", CudaException.bytes(139L << 30));
    }

    @Test
    void cublasStatusNamesFromTheHeaderValues() {
        assertEquals("CUBLAS_STATUS_NOT_INITIALIZED", Cublas.statusName(1));
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", Cublas.statusName(7));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", Cublas.statusName(15));
        assertEquals("cublasStatus_t 4", Cublas.statusName(4));
        CudaException e = Cublas.failure(13, "cublasSgemm_v2(N, T, m=2, n=3, k=4, lda=2, ldb=3, ldc=2)");
        assertEquals("cublasSgemm_v2(N, T, m=2, n=3, k=4, lda=2, ldb=3, ldc=2) failed: CUBLAS_STATUS_EXECUTION_FAILED (the GPU program failed to run)",
                e.getMessage());
    }

    @Test
    void driverErrorNamesFallBackToTheNumberWithoutADriver() {
        org.junit.jupiter.api.Assumptions.assumeFalse(CudaLibraries.system().cuda().found(), "a driver is present to name it");
        assertEquals("CUresult 2", CudaDriver.errorName(2));
    }
}
