// One variant of the compiled CPU kernels. CMake compiles this file once per
// instruction set (staticnet_cpu_<variant>), with that set's flags and
//   -DSTATICNET_KERNEL_VARIANT=<variant>          (sse2, avx2, avx512)
//   -DSTATICNET_KERNEL_VARIANT_NAME="<variant>"
//   -DSTATICNET_CPU_ISA_NAMESPACE=lib_<variant>   (the kernels' inline namespace)
// so that the variants' inline functions never share a name with each other or
// with a program's own header-only kernels. src/cpu/dispatch.cpp picks one.
#include <staticnet/cpu/kernel_table_of.hpp>

#define STATICNET_CAT2(a, b) a##b
#define STATICNET_CAT(a, b) STATICNET_CAT2(a, b)

namespace staticnet::cpu::detail {
const kernel_table& STATICNET_CAT(kernels_, STATICNET_KERNEL_VARIANT)() noexcept { return this_isa_kernels(); }
}  // namespace staticnet::cpu::detail
