// staticnet/cpu/config.hpp: what every CPU kernel header shares: the SIMD
// library (xsimd) and the instruction set it targets, forced inlining, and the
// compiler-warning guards around xsimd's instantiations.
//
//   STATICNET_CPU_DIAGNOSTICS_BEGIN ... STATICNET_CPU_DIAGNOSTICS_END
//       around a kernel header's code (g++ 12 reports -Wuninitialized inside
//       its own AVX-512 intrinsic headers, GCC PR 105593, when xsimd's exp, log
//       or integer conversions are instantiated: silenced there only)
//   STATICNET_ALWAYS_INLINE     helpers whose accumulators must stay in registers
//   cpu::isa_name()             the instruction set the kernels were compiled for
//   cpu::best_isa_name()        the best one this CPU has (xsimd's run-time detection)
//   (kernels.hpp says which variant of the kernels a program runs: cpu::isa_summary())
//
// The kernels use xsimd::batch<float> of the default architecture, i.e. the
// best the compiler flags allow (-march=native, -mavx2 -mfma, ...); see
// docs/engine.md "Instruction sets".
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#define STATICNET_CPU_DIAGNOSTICS_BEGIN                              \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wuninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define STATICNET_CPU_DIAGNOSTICS_END _Pragma("GCC diagnostic pop")
#else
#define STATICNET_CPU_DIAGNOSTICS_BEGIN
#define STATICNET_CPU_DIAGNOSTICS_END
#endif

#if defined(__GNUC__)
#define STATICNET_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define STATICNET_ALWAYS_INLINE inline
#endif

// The push comes before the xsimd include so that, when this header is the
// first to include xsimd, out-of-line instantiations (-O0/-O1) are covered too.
STATICNET_CPU_DIAGNOSTICS_BEGIN
#include <xsimd/xsimd.hpp>
STATICNET_CPU_DIAGNOSTICS_END

#include <string>

// The kernels live in an inline namespace named after the instruction set
// they are compiled for (staticnet::cpu::isa_avx512bw, ...::isa_fma3_avx2,
// ...::isa_sse2): translation units compiled with different flags then define
// different functions, so a program may hold several variants (the compiled
// library, kernels.hpp) without two definitions of one inline function
// differing. Callers still write staticnet::cpu::conv2d_forward.
#if !defined(STATICNET_CPU_ISA_NAMESPACE)
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#define STATICNET_CPU_ISA_NAMESPACE isa_avx512bw
#elif defined(__AVX512F__)
#define STATICNET_CPU_ISA_NAMESPACE isa_avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define STATICNET_CPU_ISA_NAMESPACE isa_fma3_avx2
#elif defined(__AVX2__)
#define STATICNET_CPU_ISA_NAMESPACE isa_avx2
#elif defined(__AVX__)
#define STATICNET_CPU_ISA_NAMESPACE isa_avx
#elif defined(__SSE4_2__)
#define STATICNET_CPU_ISA_NAMESPACE isa_sse4_2
#elif defined(__SSE2__) || defined(__x86_64__)
#define STATICNET_CPU_ISA_NAMESPACE isa_sse2
#elif defined(__ARM_NEON)
#define STATICNET_CPU_ISA_NAMESPACE isa_neon
#else
#define STATICNET_CPU_ISA_NAMESPACE isa_scalar
#endif
#endif
#define STATICNET_CPU_KERNELS_BEGIN \
  namespace staticnet::cpu {        \
  inline namespace STATICNET_CPU_ISA_NAMESPACE {
#define STATICNET_CPU_KERNELS_END \
  }                               \
  }

STATICNET_CPU_KERNELS_BEGIN

/// The instruction set the kernels of this translation unit were compiled for
/// ("avx512bw", "fma3+avx2", "sse2", ...: xsimd's name of its default architecture).
inline const char* isa_name() noexcept {
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
  return "scalar";
#else
  return xsimd::default_arch::name();
#endif
}

/// The best instruction set this CPU offers, as xsimd detects it at run time
/// (its name in xsimd's spelling), or "" when xsimd knows none better than SSE2.
inline std::string best_isa_name() {
  const auto a = xsimd::available_architectures();
  if (a.avx512bw) return "avx512bw";
  if (a.avx512f) return "avx512f";
  if (a.fma3_avx2) return "fma3+avx2";
  if (a.avx2) return "avx2";
  if (a.avx) return "avx";
  if (a.sse4_2) return "sse4.2";
  if (a.sse2) return "sse2";
  return "";
}

STATICNET_CPU_KERNELS_END
