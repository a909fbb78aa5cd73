// min_max.cuh — NaN-propagating min and max for the range reductions (adamw.cu, reduce.cu): fminf/fmaxf would drop
// a NaN, and the CPU reference's Math.min/Math.max keep it, so a non-finite optimizer state shows in its diagnostic.
#pragma once

__device__ inline float ebm_nan_min(float a, float b) { return (a != a || a < b) ? a : b; }
__device__ inline float ebm_nan_max(float a, float b) { return (a != a || a > b) ? a : b; }
