// Run-time choice of the compiled kernels' variant (<staticnet/cpu/kernels.hpp>):
// the best one this CPU runs, as xsimd detects it, or the one STATICNET_ISA
// names. Compiled for the baseline instruction set.
#include <staticnet/cpu/kernels.hpp>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <xsimd/config/xsimd_config.hpp>
#include <xsimd/config/xsimd_cpuid.hpp>

namespace staticnet::cpu {

namespace detail {
#if STATICNET_HAVE_KERNELS_avx512
const kernel_table& kernels_avx512() noexcept;
#endif
#if STATICNET_HAVE_KERNELS_avx2
const kernel_table& kernels_avx2() noexcept;
#endif
#if STATICNET_HAVE_KERNELS_sse2
const kernel_table& kernels_sse2() noexcept;
#endif
#if STATICNET_HAVE_KERNELS_native
const kernel_table& kernels_native() noexcept;
#endif

namespace {

struct variant {
  const char* name;
  const kernel_table& (*table)() noexcept;
  bool (*usable)();
};

// What each variant's flags require (x86-64-v4: AVX-512 F/BW/CD/DQ/VL;
// x86-64-v3: AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE; every x86-64 has SSE2),
// checked with xsimd's detection (which also asks the OS for the registers'
// state) and the compiler's for the bits xsimd does not report.
[[maybe_unused]] bool has_avx512() {
  const auto a = xsimd::available_architectures();
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  if (!__builtin_cpu_supports("avx512vl")) return false;
#endif
  return a.avx512f && a.avx512cd && a.avx512dq && a.avx512bw;
}
[[maybe_unused]] bool has_avx2() {
  const auto a = xsimd::available_architectures();
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  if (!__builtin_cpu_supports("bmi2") || !__builtin_cpu_supports("bmi")) return false;
#endif
  return a.fma3_avx2 != 0;
}
[[maybe_unused]] bool always() { return true; }

const std::vector<variant>& variants() {  // best first
  static const std::vector<variant> v = {
#if STATICNET_HAVE_KERNELS_avx512
      {"avx512", &kernels_avx512, &has_avx512},
#endif
#if STATICNET_HAVE_KERNELS_avx2
      {"avx2", &kernels_avx2, &has_avx2},
#endif
#if STATICNET_HAVE_KERNELS_sse2
      {"sse2", &kernels_sse2, &always},
#endif
#if STATICNET_HAVE_KERNELS_native
      {"native", &kernels_native, &always},
#endif
  };
  return v;
}

std::string list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

const kernel_table* find(std::string_view name, std::string& error) {
  if (name == "best") {
    for (const variant& v : variants())
      if (v.usable()) return &v.table();
    error = "no compiled kernel variant runs on this CPU";
    return nullptr;
  }
  for (const variant& v : variants()) {
    if (name != v.name) continue;
    if (v.usable()) return &v.table();
    error = "this CPU cannot run the " + std::string(name) + " kernels (usable: " + list(usable_isas()) + ")";
    return nullptr;
  }
  error = "no kernel variant \"" + std::string(name) + "\" (compiled: " + list(compiled_isas()) +
          "; or \"best\")";
  return nullptr;
}

std::atomic<const kernel_table*> active{nullptr};

}  // namespace
}  // namespace detail

const kernel_table& kernels() {
  if (const kernel_table* t = detail::active.load(std::memory_order_acquire)) return *t;
  const char* env = std::getenv("STATICNET_ISA");
  std::string error;
  const kernel_table* t = detail::find(env && *env ? std::string_view(env) : std::string_view("best"), error);
  if (!t) throw std::runtime_error("staticnet: STATICNET_ISA=" + std::string(env ? env : "") + ": " + error);
  detail::active.store(t, std::memory_order_release);
  return *t;
}

void use_isa(std::string_view variant) {
  std::string error;
  const kernel_table* t = detail::find(variant, error);
  if (!t) throw std::invalid_argument("staticnet: use_isa(\"" + std::string(variant) + "\"): " + error);
  detail::active.store(t, std::memory_order_release);
}

std::vector<std::string> compiled_isas() {
  std::vector<std::string> out;
  for (const auto& v : detail::variants()) out.emplace_back(v.name);
  return out;
}

std::vector<std::string> usable_isas() {
  std::vector<std::string> out;
  for (const auto& v : detail::variants())
    if (v.usable()) out.emplace_back(v.name);
  return out;
}

std::string isa_summary() {
  const kernel_table& k = kernels();
  return std::string("CPU kernels: ") + k.variant + " (" + k.isa + ", chosen at run time; compiled: " +
         detail::list(compiled_isas()) + "; this CPU runs: " + detail::list(usable_isas()) + ")";
}

}  // namespace staticnet::cpu
