// host_launch.cpp — the host build's module: every kernel of kernels/*.cu (included through the generated
// kernel_sources.inc, so their __shared__ statics and inline helpers live in one translation unit; the host-only
// test kernels of test_kernels.cu too) plus a launch shim shaped like the CUDA driver API, so the Java side uses
// one path for both:
//   ebm_host_get_function(name)              ~ cuModuleGetFunction (NULL when the module has no such kernel)
//   ebm_host_launch_kernel(f, grid, block, shared_bytes, void** params, schedule)
//                                            ~ cuLaunchKernel(..., kernelParams, NULL)
//   ebm_host_function_param_count(f), ebm_host_function_param_size(f, i)  ~ cuFuncGetParamInfo
// kernelParams is an array of pointers to the argument values, exactly as cuLaunchKernel reads it. schedule is the
// emulator's own: 0 runs every pass in thread index order; any other value is the key of a shuffled schedule (see
// below), so that a missing __syncthreads shows as a result that changes with the schedule.
//
// How a launch runs (the model as kernel authors see it is in cuda_host.h): on the calling OS thread, blocks one
// after another. Each block is a series of passes; a pass runs every thread that can run, in the pass's order, until
// it exits or waits (__syncthreads, a warp shuffle). Between passes the scheduler releases complete warp shuffles,
// else a barrier at which every thread of the block waits, else reports the kernel's error. The pass's order is the
// thread index order when the launch's schedule is 0; otherwise a Fisher–Yates shuffle drawn before every pass from
// a splitmix64 stream keyed by (schedule, linear block index), so it is reproducible from the key and costs one
// draw per thread and pass (block_threads swaps, nothing else).
// Threads run on fibers: stacks of 64 KiB plus a guard page, made with getcontext/makecontext when first needed and
// kept for later launches. A fiber takes an unstarted thread and, when that thread exits, takes the next unstarted
// one on the same stack, so a block that never synchronises costs one fiber switch, not one per thread. A waiting
// thread keeps its fiber (its stack holds the thread's state) until it is released and continues; so a block needs
// as many fibers as threads wait at once (at most 1024). A fiber whose thread waits switches straight to the next
// thread of the pass (one switch per thread and pass); only the end of a pass returns to the scheduler.
// After a fiber's first entry (setcontext) every switch is _setjmp/_longjmp, which leave the signal mask alone:
// swapcontext makes a sigprocmask system call on every switch (measured here: 450 ns per round trip, against
// 29 ns), and a tree reduction switches once per thread per __syncthreads. When a kernel errs (a barrier or shuffle
// misused, or an exception), the threads still inside the kernel are unwound by a FiberAbort exception thrown
// where each waits, so every fiber is idle and reusable for the next launch, which runs normally; the launch
// returns non-zero with the message in ebm_host_last_error(). Launches are serialised by a mutex (one scheduler,
// one set of __shared__ statics).
#if defined(_FORTIFY_SOURCE) && _FORTIFY_SOURCE > 0
#error "build without _FORTIFY_SOURCE (build-host.sh passes -U_FORTIFY_SOURCE): its longjmp check refuses the switch between fiber stacks"
#endif
#include "cuda_host.h"

#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
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

// sizeof each parameter (as cuFuncGetParamInfo reports it on a GPU), with a 0 after the last.
template <typename... Args>
struct ParamSizes {
    static constexpr std::size_t values[sizeof...(Args) + 1] = {sizeof(Args)..., 0};
};

template <typename... Args>
constexpr const std::size_t* param_sizes_of(void (*)(Args...)) {
    return ParamSizes<Args...>::values;
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
    const std::size_t* param_sizes;
};

#define EBM_HOST_KERNEL(kernel_name) \
    HostKernel{#kernel_name, &invoke_registered<&kernel_name>, param_count_of(&kernel_name), param_sizes_of(&kernel_name)},
const HostKernel kernel_registry[] = {
#include "kernel_registry.inc"
};
#undef EBM_HOST_KERNEL

// __shared__ statics and the scheduler below are shared by every launch, so launches run one at a time.
std::mutex launch_mutex;
thread_local std::string last_error;

int fail(int code, const std::string& message) {
    last_error = message;
    return code;
}

// ---- CUDA threads and the fibers that run them ----------------------------------------------------------------

constexpr std::size_t kFiberStackBytes = 64 * 1024;
constexpr unsigned kMaxThreads = 1024;
constexpr unsigned kMaxDynamicShared = 48 * 1024; // what a launch gets without cuFuncSetAttribute's opt-in
constexpr unsigned long long kUndefinedLane = 0x7FF8DEAD7FC0DEADull; // NaN as float (low half) and as double

enum class State {
    Unstarted, // has not begun the kernel in this block
    Running,   // on its fiber right now
    Released,  // waited, was released, and continues when the scheduler reaches it
    Barrier,   // waits in __syncthreads
    Shuffle,   // waits in a warp shuffle
    Exited,    // returned from the kernel
    Aborted,   // unwound after an error
};

struct Fiber;

// One CUDA thread of the current block.
struct Thread {
    State state = State::Unstarted;
    uint3 idx;                // threadIdx
    unsigned linear = 0;      // linear index in the block (lane = linear % 32)
    Fiber* fiber = nullptr;   // the fiber it waits on (Barrier, Shuffle, Released)
    // Where it waits, for the error messages and the same-call checks.
    const char* intrinsic = nullptr;
    const char* file = nullptr;
    int line = 0;
    // A pending shuffle: its operands, then the value the scheduler hands back.
    int mode = 0;
    unsigned mask = 0;
    int operand = 0;
    int width = 32;
    unsigned long long bits = 0;
    unsigned long long result = 0;
};

// A stack that runs threads. It takes the block's next unstarted thread and runs the kernel for it; when that
// thread exits it takes the next unstarted one, on the same stack, so a block that never synchronises is one
// fiber switch, not one per thread. When a thread waits, its fiber stays with it until it continues.
struct Fiber {
    jmp_buf context;          // where the fiber continues (valid once started)
    ucontext_t boot;          // its first entry
    bool started = false;
    Thread* thread = nullptr; // the thread it runs or holds; nullptr when idle
};

struct FiberAbort {}; // thrown where a thread waits (or errs) to unwind it out of the kernel

Thread threads[kMaxThreads];
unsigned block_threads = 0;
unsigned order[kMaxThreads];     // the pass's order: position p runs threads[order[p]] (identity when in order)
int cursor = -1;                 // the position in `order` scheduled last in this pass
unsigned long long schedule_key = 0; // the launch's schedule: 0 in index order, else the key of the shuffles
unsigned long long schedule_state = 0; // the block's splitmix64 state (shuffled schedules only)
std::vector<Fiber*> idle_fibers; // every fiber not holding a thread; grows to the most ever held at once, plus one
bool out_of_fibers = false;      // a fiber stack could not be made (kernel_error says why)
jmp_buf scheduler_context;
Thread* current = nullptr;       // the thread whose fiber runs
// The launch in progress.
const HostKernel* running_kernel = nullptr;
void** running_params = nullptr;
bool aborting = false;           // set while the scheduler unwinds the threads of a failed block
std::string kernel_error;        // the launch's first error (set before a fiber throws FiberAbort)
alignas(256) unsigned char dynamic_shared[kMaxDynamicShared];
unsigned dynamic_shared_bytes = 0;

const char* base_name(const char* path) {
    if (path == nullptr) return "?";
    const char* slash = std::strrchr(path, '/');
    return slash ? slash + 1 : path;
}

std::string site(const char* file, int line) {
    return std::string(base_name(file)) + ":" + std::to_string(line);
}

bool same_site(const Thread* a, const Thread* b) {
    // __builtin_FILE() strings of one file are one literal in this single translation unit: pointers decide fast.
    return a->line == b->line && (a->file == b->file || std::strcmp(base_name(a->file), base_name(b->file)) == 0);
}

std::string thread_name(const Thread* t) {
    return "thread (" + std::to_string(t->idx.x) + "," + std::to_string(t->idx.y) + "," + std::to_string(t->idx.z) +
           ") of block (" + std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," +
           std::to_string(blockIdx.z) + ")";
}

// Records the launch's first error; later ones (usually consequences) are dropped.
void record_error(const std::string& message) {
    if (kernel_error.empty()) kernel_error = std::string(running_kernel ? running_kernel->name : "?") + ": " + message;
}

// From inside a fiber: the error ends this thread's kernel; the scheduler then unwinds the others.
[[noreturn]] void kernel_fail(const std::string& message) {
    record_error(message);
    throw FiberAbort{};
}

void fiber_main();

Fiber* make_fiber(std::string& error) {
    static const std::size_t page = (std::size_t)sysconf(_SC_PAGESIZE);
    void* region = mmap(nullptr, kFiberStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                        -1, 0);
    if (region == MAP_FAILED) {
        error = std::string("mmap of a fiber stack failed: ") + std::strerror(errno);
        return nullptr;
    }
    if (mprotect(region, page, PROT_NONE) != 0) { // guard page: an overflow faults instead of corrupting memory
        error = std::string("mprotect of a fiber stack's guard page failed: ") + std::strerror(errno);
        munmap(region, kFiberStackBytes + page);
        return nullptr;
    }
    Fiber* f = new Fiber();
    if (getcontext(&f->boot) != 0) {
        error = std::string("getcontext failed: ") + std::strerror(errno);
        munmap(region, kFiberStackBytes + page);
        delete f;
        return nullptr;
    }
    f->boot.uc_stack.ss_sp = static_cast<char*>(region) + page;
    f->boot.uc_stack.ss_size = kFiberStackBytes;
    f->boot.uc_link = nullptr; // fiber_main never returns
    makecontext(&f->boot, fiber_main, 0);
    return f;
}

// The fiber of the next thread in the pass's order (after `cursor`) that can run: a released thread's own fiber,
// or an idle one for an unstarted thread. nullptr when the pass is over (or no fiber could be made).
Fiber* next_fiber() {
    for (unsigned p = (unsigned)(cursor + 1); p < block_threads; p++) {
        Thread* th = &threads[order[p]];
        if (th->state == State::Released) {
            cursor = (int)p;
            return th->fiber;
        }
        if (th->state == State::Unstarted) {
            Fiber* f;
            if (idle_fibers.empty()) {
                std::string error;
                f = make_fiber(error);
                if (f == nullptr) {
                    record_error(error);
                    out_of_fibers = true;
                    return nullptr;
                }
            } else {
                f = idle_fibers.back();
                idle_fibers.pop_back();
            }
            cursor = (int)p;
            f->thread = th;
            th->fiber = f;
            return f;
        }
    }
    cursor = (int)block_threads;
    return nullptr;
}

// Jumps into fiber `to`, which runs its thread (never returns here).
[[noreturn]] void enter(Fiber* to) {
    current = to->thread;
    threadIdx = to->thread->idx;
    if (to->started) _longjmp(to->context, 1);
    to->started = true;
    setcontext(&to->boot); // first entry (restores the signal mask once; every later switch is a _longjmp)
    __builtin_unreachable();
}

// Fiber side, when its thread waits (the fiber keeps it) or it has no thread (it goes idle): switches straight to
// the next thread of the pass, or back to the scheduler when there is none (or the block failed). Returns when
// this fiber is resumed. One switch per thread and pass, not two. (Not inlined: each _setjmp in a tiny frame.)
__attribute__((noinline)) void switch_away(Fiber* self) {
    if (_setjmp(self->context) != 0) return;
    Fiber* next = aborting || !kernel_error.empty() ? nullptr : next_fiber();
    if (self->thread == nullptr) idle_fibers.push_back(self); // only now: next_fiber must not hand out this fiber
    if (next != nullptr) enter(next);
    _longjmp(scheduler_context, 1);
}

// Scheduler side: runs fiber `to` (and whatever it switches to) until control comes back to the scheduler.
__attribute__((noinline)) void run_from_scheduler(Fiber* to) {
    if (_setjmp(scheduler_context) == 0) enter(to);
}

void fiber_main() {
    Fiber* const self = current->fiber;
    for (;;) {
        // next_fiber handed this fiber an unstarted thread; run it, then while the next position of the pass holds
        // an unstarted thread, that one (only the first pass has unstarted threads, and it has no released ones).
        while (self->thread != nullptr) {
            Thread* t = self->thread;
            t->state = State::Running;
            current = t;
            threadIdx = t->idx;
            try {
                running_kernel->invoke(running_params);
                t->state = State::Exited;
            } catch (const FiberAbort&) {
                t->state = State::Aborted;
            } catch (const std::exception& e) {
                record_error(thread_name(t) + " threw " + e.what());
                t->state = State::Aborted;
            } catch (...) {
                record_error(thread_name(t) + " threw an exception");
                t->state = State::Aborted;
            }
            t->fiber = nullptr;
            self->thread = nullptr;
            unsigned p = (unsigned)(cursor + 1);
            if (!aborting && kernel_error.empty() && p < block_threads && threads[order[p]].state == State::Unstarted) {
                cursor = (int)p;
                self->thread = &threads[order[p]];
                self->thread->fiber = self;
            }
        }
        switch_away(self); // idle; resumed with a new unstarted thread
    }
}

// ---- what kernels call --------------------------------------------------------------------------------------------

void wait_here(State state, const char* intrinsic, const char* file, int line) {
    Thread* self = current;
    self->state = state;
    self->intrinsic = intrinsic;
    self->file = file;
    self->line = line;
    switch_away(self->fiber); // the fiber stays with this thread until it continues
    self->state = State::Running;
    if (aborting) throw FiberAbort{};
}

} // namespace

void ebm_host_syncthreads(const char* file, int line) {
    wait_here(State::Barrier, "__syncthreads", file, line);
}

unsigned long long ebm_host_shuffle(int mode, unsigned mask, unsigned long long bits, int operand, int width,
                                    const char* intrinsic, const char* file, int line) {
    Thread* self = current;
    if (width < 1 || width > warpSize || (width & (width - 1)) != 0) {
        kernel_fail(thread_name(self) + " called " + intrinsic + " at " + site(file, line) + " with width " +
                    std::to_string(width) + " (must be a power of two from 1 to 32)");
    }
    unsigned lane = self->linear % warpSize;
    if ((mask >> lane & 1u) == 0) {
        kernel_fail(thread_name(self) + " (lane " + std::to_string(lane) + ") called " + intrinsic + " at " +
                    site(file, line) + " with a mask that leaves out its own lane");
    }
    self->mode = mode;
    self->mask = mask;
    self->operand = operand;
    self->width = width;
    self->bits = bits;
    wait_here(State::Shuffle, intrinsic, file, line);
    return self->result;
}

void* ebm_host_dynamic_shared(const char* file, int line) {
    if (dynamic_shared_bytes == 0) {
        kernel_fail(thread_name(current) + " uses dynamic shared memory (" + site(file, line) +
                    ") but the launch gave sharedBytes = 0");
    }
    return dynamic_shared;
}

namespace {

// ---- the scheduler ------------------------------------------------------------------------------------------------

// The source lane of a shuffle, as PTX shfl.sync computes it, or -1 for "the caller's own value".
int shuffle_source(const Thread* t, unsigned lane) {
    unsigned b = (unsigned)t->operand & 31u;
    unsigned segment = lane & ~(unsigned)(t->width - 1); // first lane of the caller's width-segment
    unsigned last = segment + (unsigned)t->width - 1;
    switch (t->mode) {
    case ebm_host::kShuffleIdx: return (int)(segment + (b & (unsigned)(t->width - 1)));
    case ebm_host::kShuffleUp: return (int)lane - (int)b >= (int)segment ? (int)(lane - b) : -1;
    case ebm_host::kShuffleDown: return lane + b <= last ? (int)(lane + b) : -1;
    case ebm_host::kShuffleXor: return (lane ^ b) <= last ? (int)(lane ^ b) : -1;
    }
    return -1;
}

// Called when no thread can run. Releases every warp whose shuffle has all its live lanes; false with
// kernel_error set when a warp can never complete (lanes at different calls or masks, a lane of the mask at a
// barrier). `released` says whether any thread can run again.
bool release_shuffles(bool& released) {
    released = false;
    for (unsigned base = 0; base < block_threads; base += warpSize) {
        unsigned end = base + warpSize < block_threads ? base + warpSize : block_threads;
        Thread* first = nullptr;
        for (unsigned t = base; t < end && first == nullptr; t++) {
            if (threads[t].state == State::Shuffle) first = &threads[t];
        }
        if (first == nullptr) continue;
        // Every waiting lane must be at the same call with the same mask; every live lane of the mask must be there.
        for (unsigned t = base; t < end; t++) {
            Thread* g = &threads[t];
            if (g->state == State::Shuffle && (g->mask != first->mask || !same_site(g, first))) {
                char masks[64];
                std::snprintf(masks, sizeof masks, " (mask %08x) while ", g->mask);
                std::string message = thread_name(g) + " waits in " + g->intrinsic + " at " + site(g->file, g->line) + masks;
                std::snprintf(masks, sizeof masks, " (mask %08x)", first->mask);
                record_error(message + thread_name(first) + " of its warp waits in " + first->intrinsic + " at " +
                             site(first->file, first->line) + masks);
                return false;
            }
            if ((first->mask >> (t - base) & 1u) && g->state == State::Barrier) {
                record_error(thread_name(first) + " waits in " + first->intrinsic + " at " + site(first->file, first->line) +
                             " for lane " + std::to_string(t - base) + ", which waits at the __syncthreads at " +
                             site(g->file, g->line));
                return false;
            }
        }
        for (unsigned t = base; t < end; t++) {
            Thread* g = &threads[t];
            if (g->state != State::Shuffle) continue;
            int src = shuffle_source(g, t - base);
            if (src < 0) {
                g->result = g->bits;
            } else {
                unsigned s = base + (unsigned)src;
                bool present = s < end && (first->mask >> src & 1u) && threads[s].state == State::Shuffle;
                g->result = present ? threads[s].bits : kUndefinedLane;
            }
        }
        for (unsigned t = base; t < end; t++) {
            if (threads[t].state == State::Shuffle) threads[t].state = State::Released;
        }
        released = true;
    }
    return true;
}

// Unwinds every thread still inside the kernel (each throws FiberAbort where it waits) so its fiber is idle again.
void abort_block() {
    aborting = true;
    for (unsigned t = 0; t < block_threads; t++) {
        Thread* th = &threads[t];
        if (th->state == State::Barrier || th->state == State::Shuffle || th->state == State::Released) {
            run_from_scheduler(th->fiber);
        }
    }
    aborting = false;
}

unsigned long long splitmix64(unsigned long long& state) {
    unsigned long long z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// A fresh order for the next pass (shuffled schedules only): Fisher–Yates, position i swapped with a uniform
// j ≤ i (the high 32 bits of a draw scaled to i + 1; the bias, below 2^-22 for 1024 threads, does not matter here).
void shuffle_order() {
    for (unsigned i = block_threads - 1; i > 0; i--) {
        unsigned j = (unsigned)(((splitmix64(schedule_state) >> 32) * (unsigned long long)(i + 1)) >> 32);
        unsigned o = order[i];
        order[i] = order[j];
        order[j] = o;
    }
}

// Runs one block to completion: 0, or 4 with kernel_error set when the kernel misused a barrier or shuffle (or
// threw), 5 when no fiber stack could be made.
int run_block(unsigned long long block_linear) {
    for (unsigned t = 0; t < block_threads; t++) {
        threads[t].state = State::Unstarted;
        threads[t].fiber = nullptr;
        order[t] = t;
    }
    if (schedule_key != 0) {
        // Each block's stream depends only on the key and the block, not on the blocks before it.
        schedule_state = schedule_key ^ (0xD1B54A32D192ED03ull * (block_linear + 1));
        splitmix64(schedule_state);
    }
    for (;;) {
        // One pass: every thread that can run does, in the pass's order, until it exits or waits.
        if (schedule_key != 0) shuffle_order();
        cursor = -1;
        Fiber* first = next_fiber();
        if (first != nullptr) run_from_scheduler(first);
        if (!kernel_error.empty()) {
            abort_block();
            return out_of_fibers ? 5 : 4;
        }
        // Nothing can run: every thread has exited or waits.
        unsigned exited = 0, at_barrier = 0, at_shuffle = 0;
        Thread* waiting = nullptr;
        Thread* gone = nullptr;
        for (unsigned t = 0; t < block_threads; t++) {
            Thread* th = &threads[t];
            if (th->state == State::Exited) {
                exited++;
                if (gone == nullptr) gone = th;
            } else if (th->state == State::Barrier) {
                at_barrier++;
                if (waiting == nullptr) waiting = th;
            } else if (th->state == State::Shuffle) {
                at_shuffle++;
            }
        }
        if (exited == block_threads) return 0;
        if (at_shuffle > 0) {
            bool released = false;
            if (!release_shuffles(released)) {
                abort_block();
                return 4;
            }
            if (released) continue;
        }
        if (gone != nullptr) {
            record_error(thread_name(gone) + " exited without reaching the __syncthreads at " +
                         site(waiting->file, waiting->line) + " where " + std::to_string(at_barrier) +
                         " thread(s) of its block wait (every thread of a block must reach every __syncthreads)");
            abort_block();
            return 4;
        }
        for (unsigned t = 0; t < block_threads; t++) {
            if (!same_site(&threads[t], waiting)) {
                record_error(thread_name(&threads[t]) + " waits at the __syncthreads at " +
                             site(threads[t].file, threads[t].line) + " while " + thread_name(waiting) +
                             " waits at the one at " + site(waiting->file, waiting->line) +
                             " (divergent barriers are undefined in CUDA)");
                abort_block();
                return 4;
            }
        }
        for (unsigned t = 0; t < block_threads; t++) threads[t].state = State::Released;
    }
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

// Bytes of parameter `index` (0 past the last): what the test double of libcuda reports as cuFuncGetParamInfo.
extern "C" long long ebm_host_function_param_size(const void* function, int index) {
    const HostKernel* kernel = static_cast<const HostKernel*>(function);
    return index < 0 || index >= kernel->param_count ? 0 : (long long)kernel->param_sizes[index];
}

extern "C" const char* ebm_host_last_error() {
    return last_error.c_str();
}

// Returns 0 on success, else a non-zero code with ebm_host_last_error() saying why:
// 1 no kernel, 2 bad grid or block shape, 3 too much dynamic shared memory, 4 the kernel misused a barrier,
// shuffle or dynamic shared memory (or threw), 5 no memory for fiber stacks. schedule: 0 in thread index order,
// else the key of a shuffled order per pass (the same key and launch give the same order).
extern "C" int ebm_host_launch_kernel(const void* function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                                      unsigned block_x, unsigned block_y, unsigned block_z, unsigned shared_bytes,
                                      void** params, unsigned long long schedule) {
    const HostKernel* kernel = static_cast<const HostKernel*>(function);
    if (kernel == nullptr) return fail(1, "null kernel handle");
    unsigned long long thread_count = (unsigned long long)block_x * block_y * block_z;
    if (thread_count == 0 || thread_count > kMaxThreads) return fail(2, std::string(kernel->name) + ": block must have 1..1024 threads");
    if (block_z > 64) return fail(2, std::string(kernel->name) + ": blockDim.z must be at most 64");
    if (grid_x == 0 || grid_y == 0 || grid_z == 0) return fail(2, std::string(kernel->name) + ": empty grid");
    if (grid_y > 65535 || grid_z > 65535) return fail(2, std::string(kernel->name) + ": gridDim.y and .z must be at most 65535");
    if (shared_bytes > kMaxDynamicShared) {
        return fail(3, std::string(kernel->name) + ": " + std::to_string(shared_bytes) +
                           " bytes of dynamic shared memory exceed the 48 KiB a launch gets without "
                           "cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)");
    }

    std::lock_guard<std::mutex> lock(launch_mutex);
    unsigned n = 0;
    for (unsigned tz = 0; tz < block_z; tz++) {
        for (unsigned ty = 0; ty < block_y; ty++) {
            for (unsigned tx = 0; tx < block_x; tx++, n++) {
                threads[n].idx = uint3{tx, ty, tz};
                threads[n].linear = n;
            }
        }
    }
    block_threads = (unsigned)thread_count;
    running_kernel = kernel;
    running_params = params;
    kernel_error.clear();
    out_of_fibers = false;
    dynamic_shared_bytes = shared_bytes;
    schedule_key = schedule;
    blockDim = dim3{block_x, block_y, block_z};
    gridDim = dim3{grid_x, grid_y, grid_z};
    for (unsigned bz = 0; bz < grid_z; bz++) {
        for (unsigned by = 0; by < grid_y; by++) {
            for (unsigned bx = 0; bx < grid_x; bx++) {
                blockIdx = uint3{bx, by, bz};
                // Shared memory starts undefined on a GPU: NaN bytes make a read-before-write show.
                if (shared_bytes != 0) std::memset(dynamic_shared, 0xFF, shared_bytes);
                int status = run_block(((unsigned long long)bz * grid_y + by) * grid_x + bx);
                if (status != 0) {
                    running_kernel = nullptr;
                    return fail(status, kernel_error);
                }
            }
        }
    }
    running_kernel = nullptr;
    return 0;
}
