// staticnet/cpu/gemm.hpp: single-precision matrix product on raw row-major pointers.
//
//   C[M x N] (+)= op(A)[M x K] * op(B)[K x N]
// op(A) = A (A is M x K, leading dimension lda) or A^T (A is K x M);
// op(B) = B (B is K x N) or B^T (B is N x K). accumulate=false overwrites C
// (C is then never read, so it may hold garbage or NaNs). C must not overlap
// A or B. Single-threaded: callers parallelise over images or output rows.
//
//   gemm(...)            blocked, packed, SIMD (the one to call)
//   gemm_reference(...)  naive triple loop with the same contract (for tests)
//
// Design (Goto / BLIS): the K x N operand is cut into KC x NC blocks that are
// packed into NR-column micro-panels, the M x K operand into MC x KC blocks
// packed into MR-row micro-panels; both packers read either storage order, so
// all four trans combinations reach the same register-blocked micro-kernel.
// The micro-kernel keeps an MR x NR tile of C in registers (NR = NV SIMD
// vectors of xsimd::batch<float> for the build's default arch: AVX-512, AVX2,
// SSE2 or NEON), broadcasting one packed A value per row and doing NV FMAs with
// it. Ragged M / N edges use kernels instantiated for every smaller row count
// and vector count; the last partial vector of a row goes through a small
// on-stack tile, so any M, N, K >= 0 works.
//
// Memory: no allocation per call. The packed panels live in a per-thread
// (thread_local) buffer, allocated once, by the thread's first gemm call, at
// its full size (one MC x KC block of A plus one KC x NC block of B: 0.15 +
// 1.5 MB with AVX-512; pages a thread's shapes never touch are never faulted
// in), then reused by every later call on that thread, whatever its shape. Call reserve_gemm_workspace() once per worker thread (e.g. at
// pool start-up) to take that one allocation out of the first gemm call too.
// The buffers are freed when the thread exits. Should the allocation fail,
// gemm falls back to the (slow, allocation-free) reference loop rather than
// throwing.
//
// gemm_detail::blocked() is the same loop nest with the packing of op(B) and
// the use of each C block left to the caller, for operands that exist only
// implicitly (conv.hpp packs im2col columns straight from the input planes and
// scatters the data gradient's columns straight into dx), with the packing
// buffer passed in (pack_floats(N) floats).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "config.hpp"
#if !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE) && (defined(__x86_64__) || defined(_M_X64) || defined(__i386__))
#include <immintrin.h>
#endif

STATICNET_CPU_KERNELS_BEGIN

enum class trans : bool { no = false, yes = true };

/// Naive reference implementation (same contract as gemm); for tests.
inline void gemm_reference(trans ta, trans tb, int M, int N, int K, const float* A, int lda, const float* B,
                           int ldb, float* C, int ldc, bool accumulate) noexcept {
  for (int i = 0; i < M; ++i) {
    float* c = C + static_cast<std::ptrdiff_t>(i) * ldc;
    if (!accumulate)
      for (int j = 0; j < N; ++j) c[j] = 0.0f;
    for (int k = 0; k < K; ++k) {
      const float a = ta == trans::no ? A[static_cast<std::ptrdiff_t>(i) * lda + k]
                                      : A[static_cast<std::ptrdiff_t>(k) * lda + i];
      if (tb == trans::no) {
        const float* b = B + static_cast<std::ptrdiff_t>(k) * ldb;
        for (int j = 0; j < N; ++j) c[j] += a * b[j];
      } else {
        for (int j = 0; j < N; ++j) c[j] += a * B[static_cast<std::ptrdiff_t>(j) * ldb + k];
      }
    }
  }
}

namespace gemm_detail {

#if defined(__clang__)
#define STATICNET_GEMM_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define STATICNET_GEMM_UNROLL _Pragma("GCC unroll 32")
#else
#define STATICNET_GEMM_UNROLL
#endif


using std::ptrdiff_t;

// ------------------------------------------------------------- vector type --
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE) || defined(STATICNET_GEMM_NO_SIMD)
/// Portable stand-in for xsimd::batch<float> when xsimd knows no SIMD arch
/// (STATICNET_GEMM_NO_SIMD forces it, to test this path on a SIMD machine).
struct vec {
  static constexpr std::size_t size = 1;
  float v;
  vec() = default;
  explicit vec(float x) : v(x) {}
  static vec load_aligned(const float* p) { return vec(*p); }
  static vec load_unaligned(const float* p) { return vec(*p); }
  void store_aligned(float* p) const { *p = v; }
  void store_unaligned(float* p) const { *p = v; }
  friend vec operator+(vec a, vec b) { return vec(a.v + b.v); }
};
STATICNET_ALWAYS_INLINE vec fmadd(vec a, vec b, vec c) noexcept { return vec(a.v * b.v + c.v); }
#else
using vec = xsimd::batch<float>;
/// a * b + c. xsimd 8.1 has no AVX-512 specialisation of xsimd::fma (its
/// generic mul + add only fuses under -ffp-contract=fast, which -std=c++20
/// turns off), so that one case calls the intrinsic directly.
STATICNET_ALWAYS_INLINE vec fmadd(const vec& a, const vec& b, const vec& c) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, typename vec::arch_type>)
    return vec(_mm512_fmadd_ps(a, b, c));
  else
#endif
    return xsimd::fma(a, b, c);
}
#endif

constexpr int W = static_cast<int>(vec::size);  // floats per SIMD vector

// -------------------------------------------------------------- blocking --
// MR x (NV * W) register tile. Loop order jc (NC) > pc (KC, pack B) > ic (MC,
// pack A) > jr (NR) > ir (MR): each KC x NR micro-panel of B is reused from
// L1/L2 by the MC / MR micro-kernel calls of the inner loop, the MC x KC block
// of A stays in L2, the KC x NC block of B in L2/L3. The AVX-512 numbers were
// chosen by measurement on a Sapphire-Rapids-class core (bench/RESULTS.md);
// KC 128..256, MC 96..240 and the tiles 8x48, 12x32, 6x64 all came within a
// few per cent of each other there. MR = 8 matches the 8 x 8 packing
// transposes and divides every channel count the networks use.
template <int Width>
struct blocking {  // SSE2 / NEON (16 or more 128-bit registers)
  static constexpr int MR = 6, NV = 2, KC = 256, MC = 120, NC = 2048;
};
template <>
struct blocking<16> {  // AVX-512: 32 zmm registers, 24 accumulators
  static constexpr int MR = 8, NV = 3, KC = 256, MC = 144, NC = 1536;
};
template <>
struct blocking<8> {  // AVX / AVX2: 16 ymm registers, 12 accumulators
  static constexpr int MR = 6, NV = 2, KC = 256, MC = 144, NC = 2048;
};
template <>
struct blocking<1> {  // no SIMD
  static constexpr int MR = 4, NV = 4, KC = 256, MC = 128, NC = 1024;
};

#if defined(STATICNET_GEMM_TUNE)  // benchmark-only override of the blocking
struct tuned {
  static constexpr int MR = STATICNET_GEMM_MR, NV = STATICNET_GEMM_NV, KC = STATICNET_GEMM_KC,
                       MC = STATICNET_GEMM_MC, NC = STATICNET_GEMM_NC;
};
using blk = tuned;
#else
using blk = blocking<W>;
#endif

constexpr int MR = blk::MR;
constexpr int NV = blk::NV;
constexpr int NR = NV * W;
constexpr int KC = blk::KC;
constexpr int MC = (blk::MC / MR) * MR;
constexpr int NC = (blk::NC / NR) * NR;
static_assert(MR >= 1 && NV >= 1 && MC >= MR && NC >= NR && KC >= 1, "bad gemm blocking");

// ------------------------------------------------------------- workspace --
/// Floats of the packing buffers blocked() needs for N <= max_n columns: one
/// MC x KC block of A, one KC x NC' block of B (NC' = NC or less for narrow
/// products), plus 16 floats to align the start to 64 bytes.
constexpr std::size_t pack_floats(int max_n) noexcept {
  const int nc = std::min(NC, (std::max(max_n, 1) + NR - 1) / NR * NR);
  return static_cast<std::size_t>(MC) * KC + static_cast<std::size_t>(KC) * nc + 16;
}

/// Per-thread packing buffer (see the header comment).
struct workspace {
  float* buf = nullptr;

  workspace() = default;
  workspace(const workspace&) = delete;
  workspace& operator=(const workspace&) = delete;
  ~workspace() { ::operator delete(buf, std::nothrow); }

  bool reserve() noexcept {
    if (!buf) buf = static_cast<float*>(::operator new(pack_floats(NC) * sizeof(float), std::nothrow));
    return buf != nullptr;
  }
};

inline workspace& thread_workspace() noexcept {
  thread_local workspace ws;
  return ws;
}

// Even split of n into ceil(n / max_block) blocks, rounded up to a multiple of `unit`.
constexpr int block_size(int n, int max_block, int unit) noexcept {
  const int blocks = (n + max_block - 1) / max_block;
  const int per = (n + blocks - 1) / blocks;
  return std::min(max_block, (per + unit - 1) / unit * unit);
}

// --------------------------------------------------------------- packing --
#if defined(__AVX__) && !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE) && !defined(STATICNET_GEMM_NO_SIMD)
#define STATICNET_GEMM_TRANSPOSE8 1
#endif

/// dst[c * ld + r] = rows[r][c] for r, c in [0, 8): an 8 x 8 transpose whose
/// source rows lie anywhere (the transposing packers' inner step, here and in
/// conv.hpp's implicit-column packer; xsimd 8.1 has no portable transpose, so
/// this one is AVX intrinsics, with a scalar fallback).
STATICNET_ALWAYS_INLINE void transpose8x8_rows(const float* const* rows, float* dst, ptrdiff_t ld) noexcept {
#if defined(STATICNET_GEMM_TRANSPOSE8)
  const __m256 r0 = _mm256_loadu_ps(rows[0]), r1 = _mm256_loadu_ps(rows[1]), r2 = _mm256_loadu_ps(rows[2]),
               r3 = _mm256_loadu_ps(rows[3]), r4 = _mm256_loadu_ps(rows[4]), r5 = _mm256_loadu_ps(rows[5]),
               r6 = _mm256_loadu_ps(rows[6]), r7 = _mm256_loadu_ps(rows[7]);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + ld, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * ld, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * ld, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * ld, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * ld, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * ld, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * ld, _mm256_permute2f128_ps(s3, s7, 0x31));
#else
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) dst[c * ld + r] = rows[r][c];
#endif
}

/// dst[c * ld + r] = src[r * ls + c] for an 8 x 8 block (rows ls floats apart).
STATICNET_ALWAYS_INLINE void transpose8x8(const float* src, ptrdiff_t ls, float* dst, ptrdiff_t ld) noexcept {
  const float* rows[8] = {src,          src + ls,     src + 2 * ls, src + 3 * ls,
                          src + 4 * ls, src + 5 * ls, src + 6 * ls, src + 7 * ls};
  transpose8x8_rows(rows, dst, ld);
}

/// Packs op(A)[i0 .. i0+mc) x [p0 .. p0+kc) into MR-row micro-panels:
/// panel q holds, for each p, the MR values op(A)(i0 + q*MR + r, p0 + p) contiguously.
/// Rows past mc in the last panel are left unset (the edge kernels never read them).
/// (Indices are ptrdiff_t throughout: no int overflow for the optimiser to reason about.)
inline void pack_a(trans ta, const float* A, ptrdiff_t lda, int i0, int mc, int p0, int kc_, float* dst) noexcept {
  const ptrdiff_t kc = kc_;
  for (int ir = 0; ir < mc; ir += MR, dst += MR * kc) {
    const int mr = std::min(MR, mc - ir);
    if (ta == trans::no) {  // rows of A are rows of op(A): gather MR rows, one column at a time
      const float* src = A + (i0 + ir) * lda + p0;
      if (mr == MR) {
        ptrdiff_t kc8 = 0;  // columns [0, kc8) go through 8 x 8 SIMD transposes
#if defined(STATICNET_GEMM_TRANSPOSE8)
        if constexpr (MR == 8) {
          kc8 = kc & ~ptrdiff_t{7};
          for (ptrdiff_t p = 0; p < kc8; p += 8) transpose8x8(src + p, lda, dst + p * MR, MR);
        }
#endif
        for (ptrdiff_t p = kc8; p < kc; ++p) {
          STATICNET_GEMM_UNROLL
          for (int r = 0; r < MR; ++r) dst[p * MR + r] = src[r * lda + p];
        }
      } else {
        for (int r = 0; r < mr; ++r)
          for (ptrdiff_t p = 0; p < kc; ++p) dst[p * MR + r] = src[r * lda + p];
      }
    } else {  // A is K x M: each packed column is a contiguous run of a row of A
      const float* src = A + p0 * lda + i0 + ir;
      if (mr == MR) {
        for (ptrdiff_t p = 0; p < kc; ++p) {
          STATICNET_GEMM_UNROLL
          for (int r = 0; r < MR; ++r) dst[p * MR + r] = src[p * lda + r];  // fixed size: vectorised
        }
      } else {
        for (ptrdiff_t p = 0; p < kc; ++p) std::memcpy(dst + p * MR, src + p * lda, sizeof(float) * mr);
      }
    }
  }
}

/// Packs op(B)[p0 .. p0+kc) x [j0 .. j0+nc) into NR-column micro-panels:
/// panel q holds, for each p, the NR values op(B)(p0 + p, j0 + q*NR + c) contiguously
/// (the lanes of a ragged last vector are zero-padded, so they stay finite).
inline void pack_b(trans tb, const float* B, ptrdiff_t ldb, int j0, int nc, int p0, int kc_, float* dst) noexcept {
  const ptrdiff_t kc = kc_;
  for (int jr = 0; jr < nc; jr += NR, dst += NR * kc) {
    const int nr = std::min(NR, nc - jr);
    const int nr_vec = nr / W * W;  // columns [0, nr_vec) are whole SIMD vectors
    if (nr_vec < nr)  // ragged last vector: zero it first, the data then overwrites its first lanes
      for (ptrdiff_t p = 0; p < kc; ++p) vec(0.0f).store_aligned(dst + p * NR + nr_vec);
    // (Vectors past ceil(nr / W) are never read by the kernels: no need to fill them.)
    if (tb == trans::no) {  // rows of B are rows of op(B): contiguous copies
      const float* src = B + p0 * ldb + j0 + jr;
      if (nr == NR) {
        for (ptrdiff_t p = 0; p < kc; ++p) {
          STATICNET_GEMM_UNROLL
          for (int v = 0; v < NV; ++v) vec::load_unaligned(src + p * ldb + v * W).store_aligned(dst + p * NR + v * W);
        }
      } else {
        for (ptrdiff_t p = 0; p < kc; ++p) {
          for (int c = 0; c < nr_vec; c += W) vec::load_unaligned(src + p * ldb + c).store_aligned(dst + p * NR + c);
          for (int c = nr_vec; c < nr; ++c) dst[p * NR + c] = src[p * ldb + c];
        }
      }
    } else {  // B is N x K: transpose, 8 rows of B (8 sequential read streams) at a time
      const float* src = B + (j0 + jr) * ldb + p0;
      int c = 0;
#if defined(STATICNET_GEMM_TRANSPOSE8)
      const ptrdiff_t kc8 = kc & ~ptrdiff_t{7};
      for (; c + 8 <= nr; c += 8) {
        const float* s = src + c * ldb;
        for (ptrdiff_t p = 0; p < kc8; p += 8) transpose8x8(s + p, ldb, dst + p * NR + c, NR);
        for (ptrdiff_t p = kc8; p < kc; ++p)
          for (int q = 0; q < 8; ++q) dst[p * NR + c + q] = s[q * ldb + p];
      }
#endif
      for (; c < nr; ++c) {
        const float* s = src + c * ldb;
        for (ptrdiff_t p = 0; p < kc; ++p) dst[p * NR + c] = s[p];
      }
    }
  }
}

// ---------------------------------------------------------- micro-kernel --
/// One k step of the tile: acc[r][v] += ap[r] * bp[v*W .. v*W+W).
template <int mr, int nv>
STATICNET_ALWAYS_INLINE void rank1_update(vec (&acc)[mr][nv], const float* __restrict ap,
                                        const float* __restrict bp) noexcept {
  vec b[nv];
  STATICNET_GEMM_UNROLL
  for (int v = 0; v < nv; ++v) b[v] = vec::load_aligned(bp + v * W);
  STATICNET_GEMM_UNROLL
  for (int r = 0; r < mr; ++r) {
    const vec a(ap[r]);
    STATICNET_GEMM_UNROLL
    for (int v = 0; v < nv; ++v) acc[r][v] = fmadd(a, b[v], acc[r][v]);
  }
}

template <int mr, int nv>
STATICNET_ALWAYS_INLINE void zero(vec (&acc)[mr][nv]) noexcept {
  STATICNET_GEMM_UNROLL
  for (int r = 0; r < mr; ++r) {
    STATICNET_GEMM_UNROLL
    for (int v = 0; v < nv; ++v) acc[r][v] = vec(0.0f);
  }
}

/// C[mr x ncols] (+)= Ap[mr x kc] * Bp[kc x nv*W] with ncols in ((nv-1)*W, nv*W].
/// Ap: packed A micro-panel (stride MR per k), Bp: packed B micro-panel (stride NR per k).
/// beta = false overwrites C without reading it. <MR, NV> is the main kernel,
/// the smaller instantiations serve the ragged M / N edges.
template <int mr, int nv>
void micro_kernel(int kc, const float* __restrict ap, const float* __restrict bp, float* __restrict c, int ldc,
                  int ncols, bool beta) noexcept {
  vec acc[mr][nv];
  zero(acc);
  if constexpr (2 * mr * nv <= MR * NV) {
    // Small edge tile: too few independent FMA chains to cover the FMA latency,
    // so even and odd k go to two sets of accumulators, summed at the end.
    vec acc2[mr][nv];
    zero(acc2);
    int p = 0;
    for (; p + 2 <= kc; p += 2, ap += 2 * MR, bp += 2 * NR) {
      rank1_update(acc, ap, bp);
      rank1_update(acc2, ap + MR, bp + NR);
    }
    if (p < kc) rank1_update(acc, ap, bp);
    STATICNET_GEMM_UNROLL
    for (int r = 0; r < mr; ++r) {
      STATICNET_GEMM_UNROLL
      for (int v = 0; v < nv; ++v) acc[r][v] = acc[r][v] + acc2[r][v];
    }
  } else {
    for (int p = 0; p < kc; ++p, ap += MR, bp += NR) rank1_update(acc, ap, bp);
  }
  if (ncols == nv * W) {
    STATICNET_GEMM_UNROLL
    for (int r = 0; r < mr; ++r) {
      float* cr = c + static_cast<ptrdiff_t>(r) * ldc;
      STATICNET_GEMM_UNROLL
      for (int v = 0; v < nv; ++v) {
        vec x = acc[r][v];
        if (beta) x = x + vec::load_unaligned(cr + v * W);
        x.store_unaligned(cr + v * W);
      }
    }
  } else {  // ragged right edge: full vectors directly, the last one through a small tile
    constexpr int full = nv - 1;
    alignas(64) float tail[mr][W];
    const int rest = ncols - full * W;
    STATICNET_GEMM_UNROLL
    for (int r = 0; r < mr; ++r) {
      float* cr = c + static_cast<ptrdiff_t>(r) * ldc;
      STATICNET_GEMM_UNROLL
      for (int v = 0; v < full; ++v) {
        vec x = acc[r][v];
        if (beta) x = x + vec::load_unaligned(cr + v * W);
        x.store_unaligned(cr + v * W);
      }
      acc[r][full].store_aligned(tail[r]);
      float* ct = cr + full * W;
      if (beta)
        for (int j = 0; j < rest; ++j) ct[j] += tail[r][j];
      else
        for (int j = 0; j < rest; ++j) ct[j] = tail[r][j];
    }
  }
}

using kernel_fn = void (*)(int, const float*, const float*, float*, int, int, bool) noexcept;

template <int... Rs, int... Vs>
constexpr auto make_kernel_table(std::integer_sequence<int, Rs...>, std::integer_sequence<int, Vs...> vs) {
  struct table {
    kernel_fn f[MR][NV];
  } t{};
  (
      [&]<int R, int... V>(std::integral_constant<int, R>, std::integer_sequence<int, V...>) {
        ((t.f[R][V] = &micro_kernel<R + 1, V + 1>), ...);
      }(std::integral_constant<int, Rs>{}, vs),
      ...);
  return t;
}
/// kernels[mr - 1][nv - 1] = micro_kernel<mr, nv>, for the ragged edges.
inline constexpr auto kernels = make_kernel_table(std::make_integer_sequence<int, MR>{},
                                                  std::make_integer_sequence<int, NV>{});

/// The register tiles of a packed A block (mc x kc) times a packed B block
/// (kc x nc): f(ir, jr, mr, nr, nv, a, b) for each MR x NR tile at rows ir,
/// columns jr (mr x nr of it inside the block, nv vectors wide), with a / b
/// its micro-panels. B micro-panels in the outer loop: each stays in L1
/// while the A micro-panels stream past it.
template <class F>
STATICNET_ALWAYS_INLINE void for_each_tile(int mc, int nc, int kc, const float* ap, const float* bp, F&& f) noexcept {
  for (int jr = 0; jr < nc; jr += NR) {
    const int nr = std::min(NR, nc - jr);
    const int nv = (nr + W - 1) / W;
    const float* b = bp + static_cast<ptrdiff_t>(jr) * kc;
    for (int ir = 0; ir < mc; ir += MR)
      f(ir, jr, std::min(MR, mc - ir), nr, nv, ap + static_cast<ptrdiff_t>(ir) * kc, b);
  }
}

/// C[mc x nc] (+)= packed A block (mc x kc) * packed B block (kc x nc).
/// Each tile's lines of C are asked for, for writing, before its K loop: C is
/// usually a fresh activation that is not in cache, and with a short K (1x1
/// convolutions) the stores would otherwise wait for one read-for-ownership
/// after another. (The sink path's tile is on the stack: nothing to fetch.)
inline void macro_kernel(int mc, int nc, int kc, const float* ap, const float* bp, float* c, int ldc,
                         bool beta) noexcept {
  for_each_tile(mc, nc, kc, ap, bp, [&](int ir, int jr, int mr, int nr, int nv, const float* a, const float* b) {
    float* cij = c + static_cast<ptrdiff_t>(ir) * ldc + jr;
    for (int r = 0; r < mr; ++r)
      for (int j = 0; j < nr; j += W) __builtin_prefetch(cij + static_cast<ptrdiff_t>(r) * ldc + j, 1, 3);
    if (mr == MR && nr == NR)
      micro_kernel<MR, NV>(kc, a, b, cij, ldc, nr, beta);
    else
      kernels.f[mr - 1][nv - 1](kc, a, b, cij, ldc, nr, beta);
  });
}

/// The Goto loop nest with the op(B) packing and the macro step supplied by the
/// caller: pack(j0, nc, p0, kc, dst) fills dst exactly as pack_b does for
/// op(B)[p0 .. p0+kc) x [j0 .. j0+nc); macro(ic, mc, jc, nc, kc, ap, bp, beta)
/// consumes one packed A block and one packed B block (beta: false on the first
/// K block of a product that overwrites). buf: pack_floats(N) floats, any alignment.
template <class Pack, class Macro>
void blocked(trans ta, int M, int N, int K, const float* A, int lda, Pack&& pack, Macro&& macro, float* buf,
             bool accumulate) noexcept {
  const int kc_blk = block_size(K, KC, 1);
  const int mc_blk = block_size(M, MC, MR);
  const int nc_blk = block_size(N, NC, NR);
  float* a_buf = reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(buf) + 63) & ~std::uintptr_t{63});
  float* b_buf = a_buf + static_cast<ptrdiff_t>(MC) * KC;
  for (int jc = 0; jc < N; jc += nc_blk) {
    const int nc = std::min(nc_blk, N - jc);
    for (int pc = 0; pc < K; pc += kc_blk) {
      const int kc = std::min(kc_blk, K - pc);
      pack(jc, nc, pc, kc, b_buf);
      const bool beta = accumulate || pc > 0;
      for (int ic = 0; ic < M; ic += mc_blk) {
        const int mc = std::min(mc_blk, M - ic);
        pack_a(ta, A, lda, ic, mc, pc, kc, a_buf);
        macro(ic, mc, jc, nc, kc, static_cast<const float*>(a_buf), static_cast<const float*>(b_buf), beta);
      }
    }
  }
}

/// The macro step of a product whose output goes to sink(i0, mr, j0, nr, tile)
/// instead of a matrix: tile holds the mr x nr block of op(A) * op(B) (for this
/// K block only) at row stride NR. The sink adds it wherever it belongs.
template <class Sink>
void macro_kernel_sink(int i0, int mc, int j0, int nc, int kc, const float* ap, const float* bp, Sink& sink) noexcept {
  alignas(64) float tile[MR * NR];
  for_each_tile(mc, nc, kc, ap, bp, [&](int ir, int jr, int mr, int nr, int nv, const float* a, const float* b) {
    if (mr == MR && nv == NV)
      micro_kernel<MR, NV>(kc, a, b, tile, NR, NR, false);
    else
      kernels.f[mr - 1][nv - 1](kc, a, b, tile, NR, nv * W, false);
    sink(i0 + ir, mr, j0 + jr, nr, static_cast<const float*>(tile));
  });
}

}  // namespace gemm_detail

/// Allocates the calling thread's packing buffers (their one and only
/// allocation; gemm does it on first use otherwise). Cheap once done. Returns
/// false if the allocation failed (gemm then works through the reference loop).
inline bool reserve_gemm_workspace() noexcept { return gemm_detail::thread_workspace().reserve(); }

/// Blocked SIMD GEMM; contract in the header comment.
inline void gemm(trans ta, trans tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                 float* C, int ldc, bool accumulate) noexcept {
  using namespace gemm_detail;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int i = 0; i < M; ++i) std::memset(C + static_cast<ptrdiff_t>(i) * ldc, 0, sizeof(float) * N);
    return;
  }
  if (!reserve_gemm_workspace()) {  // a no-op after the thread's first call
    gemm_reference(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    return;
  }
  blocked(
      ta, M, N, K, A, lda,
      [&](int j0, int nc, int p0, int kc, float* dst) { pack_b(tb, B, ldb, j0, nc, p0, kc, dst); },
      [&](int ic, int mc, int jc, int nc, int kc, const float* ap, const float* bp, bool beta) {
        macro_kernel(mc, nc, kc, ap, bp, C + static_cast<ptrdiff_t>(ic) * ldc + jc, ldc, beta);
      },
      thread_workspace().buf, accumulate);
}

STATICNET_CPU_KERNELS_END

#undef STATICNET_GEMM_UNROLL
#undef STATICNET_GEMM_TRANSPOSE8
