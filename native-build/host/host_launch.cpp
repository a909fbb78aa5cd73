// host_launch.cpp — the host build's module: every kernel of kernels/*.cu (included through the generated
// kernel_sources.inc, so their __shared__ statics and inline helpers live in one translation unit) plus a launch
// shim shaped like the CUDA driver API, so the Java side uses one path for both:
//   ebm_host_get_function(name)              ~ cuModuleGetFunction (NULL when the module has no such kernel)
//   ebm_host_launch_kernel(f, grid, block, shared_bytes, void** params)  ~ cuLaunchKernel(..., kernelParams, NULL)
// kernelParams is an array of pointers to the argument values, exactly as cuLaunchKernel reads it.
#include "cuda_host.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kernel_sources.inc"

namespace {

template <typename... Args, std::size_t... I>
void call_with_params(void (*kernel)(Args...), void** params, std::index_sequence<I...>) {
    kernel(*static_cast<Args*>(params[I])...);
}

template <typename... Args>
constexpr int param_count_of(void (*)(Args...)) {
    return (int)sizeof...(Args);
}

template <typename... Args>
void call_kernel(void (*kernel)(Args...), void** params) {
    call_with_params(kernel, params, std::index_sequence_for<Args...>{});
}

template <auto Kernel>
void invoke_registered(void** params) {
    call_kernel(Kernel, params);
}

struct HostKernel {
    const char* name;
    void (*invoke)(void** params);
    int param_count;
};

#define EBM_HOST_KERNEL(kernel_name) HostKernel{#kernel_name, &invoke_registered<&kernel_name>, param_count_of(&kernel_name)},
const HostKernel kernel_registry[] = {
#include "kernel_registry.inc"
};
#undef EBM_HOST_KERNEL

// __shared__ statics are shared by every launch, so launches run one at a time.
std::mutex launch_mutex;
thread_local std::string last_error;

int fail(int code, const std::string& message) {
    last_error = message;
    return code;
}

} // namespace

extern "C" const void* ebm_host_get_function(const char* name) {
    for (const HostKernel& k : kernel_registry) {
        if (std::strcmp(k.name, name) == 0) return &k;
    }
    return nullptr;
}

extern "C" int ebm_host_function_param_count(const void* function) {
    return static_cast<const HostKernel*>(function)->param_count;
}

extern "C" const char* ebm_host_last_error() {
    return last_error.c_str();
}

// Returns 0 on success, else a non-zero code with ebm_host_last_error() saying why.
extern "C" int ebm_host_launch_kernel(const void* function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                                      unsigned block_x, unsigned block_y, unsigned block_z, unsigned shared_bytes,
                                      void** params) {
    const HostKernel* kernel = static_cast<const HostKernel*>(function);
    if (kernel == nullptr) return fail(1, "null kernel handle");
    unsigned long long threads = (unsigned long long)block_x * block_y * block_z;
    unsigned long long blocks = (unsigned long long)grid_x * grid_y * grid_z;
    if (threads == 0 || threads > 1024) return fail(2, std::string(kernel->name) + ": block must have 1..1024 threads");
    if (blocks == 0) return fail(2, std::string(kernel->name) + ": empty grid");
    if (shared_bytes != 0) return fail(3, std::string(kernel->name) + ": dynamic shared memory is not emulated");

    std::lock_guard<std::mutex> lock(launch_mutex);
    std::barrier<> block_barrier((std::ptrdiff_t)threads);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (unsigned tz = 0; tz < block_z; tz++) {
        for (unsigned ty = 0; ty < block_y; ty++) {
            for (unsigned tx = 0; tx < block_x; tx++) {
                workers.emplace_back([=, &block_barrier] {
                    threadIdx = uint3{tx, ty, tz};
                    blockDim = dim3{block_x, block_y, block_z};
                    gridDim = dim3{grid_x, grid_y, grid_z};
                    ebm_host_block_barrier = &block_barrier;
                    for (unsigned bz = 0; bz < grid_z; bz++) {
                        for (unsigned by = 0; by < grid_y; by++) {
                            for (unsigned bx = 0; bx < grid_x; bx++) {
                                blockIdx = uint3{bx, by, bz};
                                kernel->invoke(params);
                                // No thread starts the next block (and reuses __shared__) before this one is done.
                                block_barrier.arrive_and_wait();
                            }
                        }
                    }
                });
            }
        }
    }
    for (std::thread& t : workers) t.join();
    return 0;
}
