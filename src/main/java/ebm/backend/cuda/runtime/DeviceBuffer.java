package ebm.backend.cuda.runtime;

/** A device allocation: its address (a CUdeviceptr on a GPU, a native address in host emulation) and size in bytes. */
public record DeviceBuffer(long address, long bytes) {}
