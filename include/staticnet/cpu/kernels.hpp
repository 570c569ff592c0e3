// staticnet/cpu/kernels.hpp: the CPU kernels as the engine calls them — one
// table of function pointers per instruction set, picked at run time.
//
//   const sn::cpu::kernel_table& k = sn::cpu::kernels();
//   k.conv2d_forward(g, n, x, w, b, y, scratch, sn::cpu::conv_epilogue::none, nullptr);
//   sn::cpu::use_isa("avx2");                  // or "sse2", "avx512", "best"
//   std::cout << sn::cpu::isa_summary();       // "CPU kernels: avx512 (avx512bw) ..."
//
// Two modes (docs/engine.md, "Instruction sets and compiled kernels"):
//   * compiled (STATICNET_COMPILED_KERNELS, what the CMake target
//     staticnet::staticnet gives): the kernels are compiled once, into
//     libstaticnet, for each instruction set the compiler can target
//     (x86-64: sse2, avx2 = x86-64-v3, avx512 = x86-64-v4); kernels() returns
//     the best one this CPU runs (xsimd's run-time detection), or the one the
//     environment variable STATICNET_ISA names. A program that includes this
//     header compiles none of the kernels, whatever its own flags.
//   * header-only (staticnet::header_only, or no CMake): the kernels are
//     inline and compiled for the flags of the including translation unit
//     (-march=native for the best); kernels() returns that one variant.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_table.hpp"
#include "kernel_types.hpp"


#if defined(STATICNET_COMPILED_KERNELS) && STATICNET_COMPILED_KERNELS

namespace staticnet::cpu {

/// The kernels in use (chosen on the first call: STATICNET_ISA, else the best
/// variant this CPU runs). Throws std::runtime_error when STATICNET_ISA names
/// a variant that is not compiled in or that this CPU cannot run.
[[nodiscard]] const kernel_table& kernels();
/// Switches every later kernel call to a variant ("sse2", "avx2", "avx512",
/// or "best"); throws std::invalid_argument, naming the usable ones, otherwise.
/// Not to be called while a kernel runs.
void use_isa(std::string_view variant);
/// The variants compiled into the library, best first.
[[nodiscard]] std::vector<std::string> compiled_isas();
/// The compiled variants this CPU can run, best first.
[[nodiscard]] std::vector<std::string> usable_isas();
/// One line for the programs' --summary: the variant in use and the others.
[[nodiscard]] std::string isa_summary();

}  // namespace staticnet::cpu

#else  // header-only: the kernels of this translation unit's instruction set

#include <stdexcept>

#include "kernel_table_of.hpp"

STATICNET_CPU_KERNELS_BEGIN

[[nodiscard]] inline const kernel_table& kernels() noexcept { return this_isa_kernels(); }
[[nodiscard]] inline std::vector<std::string> compiled_isas() { return {this_isa_kernels().variant}; }
[[nodiscard]] inline std::vector<std::string> usable_isas() { return compiled_isas(); }
inline void use_isa(std::string_view variant) {
  if (variant != "best" && variant != this_isa_kernels().variant)
    throw std::invalid_argument("staticnet: use_isa(\"" + std::string(variant) +
                                "\"): header-only kernels are compiled for " + this_isa_kernels().variant +
                                " only (link staticnet::staticnet for run-time dispatch)");
}
[[nodiscard]] inline std::string isa_summary() {
  std::string s = std::string("CPU kernels: ") + this_isa_kernels().variant + " (" + this_isa_kernels().isa +
                  ", header-only: compiled for this program's flags)";
  const std::string best = best_isa_name();
  if (!best.empty() && best != this_isa_kernels().isa)
    s += "; this CPU has " + best + ": compile with -march=native, or link staticnet::staticnet";
  return s;
}

STATICNET_CPU_KERNELS_END

#endif
