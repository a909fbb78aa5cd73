// dynamic_shared.cuh — EBM_DYNAMIC_SHARED(type, name): declares `type* name`, the launch's dynamic shared memory
// (its sharedBytes), 16-byte aligned. One spelling for both builds: nvcc gets the extern __shared__ array below;
// the host build (native-build/host/cuda_host.h, which defines it first) gets the emulator's per-launch buffer.
#pragma once
#ifndef EBM_DYNAMIC_SHARED
#define EBM_DYNAMIC_SHARED(type, name)                                                                                 \
    extern __shared__ __align__(16) unsigned char ebm_dynamic_shared_storage[];                                        \
    type* name = reinterpret_cast<type*>(ebm_dynamic_shared_storage)
#endif
