// The process-wide thread pool of the compiled kernels (declared in
// <staticnet/cpu/parallel.hpp> when STATICNET_COMPILED_KERNELS is set):
// defined once, compiled for the baseline instruction set.
#define STATICNET_DEFINE_POOL 1
#include <staticnet/cpu/parallel.hpp>
