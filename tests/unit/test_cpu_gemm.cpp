// staticnet::cpu::gemm (blocked SIMD) against gemm_reference (naive loops).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <staticnet/cpu/gemm.hpp>

namespace {

using staticnet::cpu::gemm;
using staticnet::cpu::gemm_reference;
using staticnet::cpu::trans;

/// Deterministic values in [-1, 1).
struct lcg {
  std::uint32_t s;
  float operator()() {
    s = s * 1664525u + 1013904223u;
    return static_cast<float>(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
};

struct problem {
  trans ta, tb;
  int M, N, K;
  int pad_a = 0, pad_b = 0, pad_c = 0;  // extra leading-dimension columns
  bool accumulate = false;
};

std::string describe(const problem& p) {
  return std::string("ta=") + (p.ta == trans::yes ? "T" : "N") + " tb=" + (p.tb == trans::yes ? "T" : "N") +
         " M=" + std::to_string(p.M) + " N=" + std::to_string(p.N) + " K=" + std::to_string(p.K) +
         " pads=" + std::to_string(p.pad_a) + "," + std::to_string(p.pad_b) + "," + std::to_string(p.pad_c) +
         (p.accumulate ? " accumulate" : "");
}

/// Runs gemm and gemm_reference on the same random inputs; compares all of C,
/// padding columns included (they must be left untouched).
void check(const problem& p, std::uint32_t seed = 1) {
  SCOPED_TRACE(describe(p));
  const int a_rows = p.ta == trans::no ? p.M : p.K, a_cols = p.ta == trans::no ? p.K : p.M;
  const int b_rows = p.tb == trans::no ? p.K : p.N, b_cols = p.tb == trans::no ? p.N : p.K;
  const int lda = a_cols + p.pad_a, ldb = b_cols + p.pad_b, ldc = p.N + p.pad_c;
  lcg rng{seed};
  std::vector<float> A(static_cast<std::size_t>(std::max(1, a_rows * lda)));
  std::vector<float> B(static_cast<std::size_t>(std::max(1, b_rows * ldb)));
  std::vector<float> C0(static_cast<std::size_t>(std::max(1, p.M * ldc)));
  for (auto& x : A) x = rng();
  for (auto& x : B) x = rng();
  for (auto& x : C0) x = rng();
  std::vector<float> want = C0, got = C0;
  if (!p.accumulate)  // overwrite mode must never read C: poison it
    for (int i = 0; i < p.M; ++i)
      for (int j = 0; j < p.N; ++j) got[static_cast<std::size_t>(i) * ldc + j] = std::numeric_limits<float>::quiet_NaN();
  gemm_reference(p.ta, p.tb, p.M, p.N, p.K, A.data(), lda, B.data(), ldb, want.data(), ldc, p.accumulate);
  gemm(p.ta, p.tb, p.M, p.N, p.K, A.data(), lda, B.data(), ldb, got.data(), ldc, p.accumulate);
  // Terms are in [-1, 1], so |error| <= ~K ulp-ish of a value of magnitude <= K + 1.
  const float tol = 1e-5f * static_cast<float>(std::max(1, p.K)) * 2.0f;
  int bad = 0;
  for (int i = 0; i < p.M && bad < 5; ++i)
    for (int j = 0; j < ldc && bad < 5; ++j) {
      const std::size_t at = static_cast<std::size_t>(i) * ldc + j;
      const float w = want[at], g = got[at];
      if (j >= p.N) {  // padding
        if (g != C0[at]) {
          ADD_FAILURE() << "padding C(" << i << "," << j << ") changed";
          ++bad;
        }
        continue;
      }
      if (!(std::fabs(g - w) <= tol * std::max(1.0f, std::fabs(w)))) {
        ADD_FAILURE() << "C(" << i << "," << j << ") = " << g << ", want " << w;
        ++bad;
      }
    }
}

constexpr trans both[] = {trans::no, trans::yes};

TEST(CpuGemm, TinyAndOddSizesAllTransposes) {
  const int sizes[] = {1, 2, 3, 7, 17, 31};
  for (trans ta : both)
    for (trans tb : both)
      for (int M : sizes)
        for (int N : sizes)
          for (int K : sizes)
            for (bool acc : {false, true}) check({ta, tb, M, N, K, 0, 0, 0, acc});
}

TEST(CpuGemm, EdgesAroundRegisterTiles) {
  // Sizes straddling every MR (<= 16) and NR (<= 64) multiple, in every position.
  const int ms[] = {1, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 23, 25, 33};
  const int ns[] = {1, 4, 8, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 63, 64, 65, 97};
  for (trans ta : both)
    for (trans tb : both)
      for (int M : ms)
        for (int N : ns) check({ta, tb, M, N, 9, 1, 2, 3, (M + N) % 2 == 0});
}

TEST(CpuGemm, CacheBlockEdges) {
  // K and N beyond one KC / NC block (K split unevenly, N past NC), M past MC.
  const problem ps[] = {
      {trans::no, trans::no, 65, 257, 300},   {trans::yes, trans::no, 31, 129, 513},
      {trans::no, trans::yes, 17, 1031, 65},  {trans::yes, trans::yes, 257, 33, 257},
      {trans::no, trans::no, 300, 70, 17},    {trans::no, trans::yes, 64, 96, 1024},
      {trans::no, trans::no, 3, 3100, 5},     {trans::yes, trans::yes, 1, 1, 1000},
  };
  for (problem p : ps)
    for (bool acc : {false, true}) {
      p.accumulate = acc;
      check(p);
    }
}

TEST(CpuGemm, LeadingDimensions) {
  for (trans ta : both)
    for (trans tb : both)
      for (int pad : {1, 3, 16}) {
        check({ta, tb, 31, 65, 17, pad, 0, 0, true});
        check({ta, tb, 17, 33, 65, 0, pad, 0, false});
        check({ta, tb, 65, 17, 31, 0, 0, pad, true});
        check({ta, tb, 13, 49, 40, pad, 2 * pad, pad + 5, false});
      }
}

TEST(CpuGemm, NetworkShapes) {
  // 1x1 conv forward (NN), backward data (TN), weight gradient (NT), im2col, Linear.
  check({trans::no, trans::no, 64, 576, 48});
  check({trans::yes, trans::no, 48, 576, 64, 0, 0, 0, true});
  check({trans::no, trans::yes, 64, 48, 576, 0, 0, 0, true});
  check({trans::no, trans::no, 32, 1024, 27});
  check({trans::no, trans::yes, 128, 10, 84});
  check({trans::yes, trans::no, 10, 84, 128});
}

TEST(CpuGemm, DegenerateSizes) {
  std::vector<float> C(12, 5.0f);
  const float a = 1.0f, b = 1.0f;
  gemm(trans::no, trans::no, 3, 4, 0, &a, 1, &b, 4, C.data(), 4, true);  // K = 0, accumulate: C unchanged
  for (float x : C) EXPECT_EQ(x, 5.0f);
  gemm(trans::no, trans::no, 3, 4, 0, &a, 1, &b, 4, C.data(), 4, false);  // K = 0, overwrite: C = 0
  for (float x : C) EXPECT_EQ(x, 0.0f);
  gemm(trans::no, trans::no, 0, 4, 3, &a, 3, &b, 4, C.data(), 4, false);  // M = 0, N = 0: no-ops
  gemm(trans::no, trans::no, 3, 0, 3, &a, 3, &b, 4, C.data(), 4, false);
  for (float x : C) EXPECT_EQ(x, 0.0f);
}

TEST(CpuGemm, ExactOnSmallIntegers) {
  // With small integer inputs every partial sum is exact, so results must match bit for bit.
  const int M = 37, N = 53, K = 300;
  std::vector<float> A(M * K), B(K * N), C(M * N), R(M * N);
  for (int i = 0; i < M * K; ++i) A[i] = static_cast<float>(i % 7 - 3);
  for (int i = 0; i < K * N; ++i) B[i] = static_cast<float>(i % 5 - 2);
  gemm(trans::no, trans::no, M, N, K, A.data(), K, B.data(), N, C.data(), N, false);
  gemm_reference(trans::no, trans::no, M, N, K, A.data(), K, B.data(), N, R.data(), N, false);
  EXPECT_EQ(C, R);
}

TEST(CpuGemm, ThreadsHaveTheirOwnWorkspace) {
  EXPECT_TRUE(staticnet::cpu::reserve_gemm_workspace());
  std::vector<std::thread> ts;
  std::vector<int> failures(2, 0);
  for (int t = 0; t < 2; ++t)
    ts.emplace_back([t, &failures] {
      const int M = 40 + t, N = 300, K = 200;
      std::vector<float> A(M * K), B(K * N), C(M * N), R(M * N);
      lcg rng{static_cast<std::uint32_t>(7 + t)};
      for (auto& x : A) x = rng();
      for (auto& x : B) x = rng();
      for (int rep = 0; rep < 5; ++rep) {
        gemm(trans::no, trans::no, M, N, K, A.data(), K, B.data(), N, C.data(), N, false);
        gemm_reference(trans::no, trans::no, M, N, K, A.data(), K, B.data(), N, R.data(), N, false);
        for (int i = 0; i < M * N; ++i)
          if (std::fabs(C[i] - R[i]) > 1e-5f * K * std::max(1.0f, std::fabs(R[i]))) ++failures[t];
      }
    });
  for (auto& th : ts) th.join();
  EXPECT_EQ(failures[0], 0);
  EXPECT_EQ(failures[1], 0);
}

}  // namespace
