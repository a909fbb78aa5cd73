package ebm.backend.cuda.bindings;

import ebm.EbmException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

/**
 * Binds a C function of libcuda or libcublas to a downcall handle. A library that was not found, or a symbol it
 * lacks (an older driver), gives a handle of the same type that throws a one-line {@link EbmException} when called,
 * so binding (class initialisation) never fails on a machine without a GPU; only calling does, with the reason.
 * No {@link Linker.Option#critical} anywhere: these calls may block (synchronise, allocate, JIT).
 */
final class NativeBindings {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle UNAVAILABLE;

    static {
        try {
            UNAVAILABLE = MethodHandles.lookup().findStatic(NativeBindings.class, "unavailable",
                    MethodType.methodType(int.class, String.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private NativeBindings() {}

    static MethodHandle bind(CudaLibraries.Location library, String symbol, FunctionDescriptor descriptor) {
        MethodType type = descriptor.toMethodType();
        if (type.returnType() != int.class) throw new IllegalArgumentException(symbol + ": CUresult and cublasStatus_t are int");
        String problem;
        if (!library.found()) {
            problem = library.problem();
        } else {
            Optional<MemorySegment> address = library.symbols().find(symbol);
            if (address.isPresent()) return LINKER.downcallHandle(address.get(), descriptor);
            problem = library.library() + " at " + library.where() + " has no symbol " + symbol
                    + " (a driver or cuBLAS older than CUDA 13?)";
        }
        return MethodHandles.dropArguments(UNAVAILABLE.bindTo(problem), 0, type.parameterList());
    }

    private static int unavailable(String problem) {
        throw new EbmException(problem);
    }

    /** Rethrows what a downcall threw: unchecked as is, anything else wrapped (downcalls throw nothing checked). */
    static RuntimeException propagate(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
