// grid_stride.cuh — the loop every grid-stride kernel runs (elementwise work, and the per-thread partial sums of the
// reductions): index i visits [0, n) starting at the thread's global index and stepping by the whole grid, so any
// launch shape covers any n (the Java side caps the grid; see Grid) and the work an index gets never depends on the
// launch shape.
#pragma once

#define EBM_GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)
