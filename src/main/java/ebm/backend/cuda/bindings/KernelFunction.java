package ebm.backend.cuda.bindings;

import java.lang.foreign.MemorySegment;

/** An extern "C" kernel looked up in a loaded module (a CUfunction, or the host build's registry entry). */
public record KernelFunction(String name, MemorySegment handle) {}
