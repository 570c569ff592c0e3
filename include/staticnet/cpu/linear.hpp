// staticnet/cpu/linear.hpp: torch.nn.Linear CPU kernels on top of cpu::gemm.
//
//   forward : y[n x out]  = x[n x in] * w^T + bias        (w is out x in, as torch)
//   backward: dx[n x in]  = dy * w                        (skipped when dx is null)
//             dw[out x in] = dy^T * x                     (overwritten)
//             dbias[out]   = column sums of dy             (overwritten; skipped when null)
// gemm is single-threaded; these split the work with parallel_for over rows
// (of y, dx, dw), or over output columns when there are too few rows to go
// round. No heap allocation.
#pragma once
#include <algorithm>
#include <cstddef>

#include "simd.hpp"
#include "gemm.hpp"

STATICNET_CPU_KERNELS_BEGIN

namespace layer_detail {

/// Rows (of `cols` columns, `depth` multiply-adds each) per parallel chunk.
inline std::size_t gemm_row_grain(int cols, int depth) noexcept {
  const std::size_t per_row = static_cast<std::size_t>(std::max(cols, 1)) * static_cast<std::size_t>(std::max(depth, 1));
  return std::max<std::size_t>(1, (std::size_t{1} << 17) / per_row);
}

/// True when there are enough rows to split them between the threads.
inline bool split_rows(int rows) noexcept { return rows >= 2 * num_threads(); }

}  // namespace layer_detail

/// y = x * w^T (+ bias).
inline void linear_forward(int n, int in, int out, const float* x, const float* w, const float* bias, float* y) {
  using namespace layer_detail;
  if (n <= 0 || out <= 0) return;
  const auto O = static_cast<std::size_t>(out), I = static_cast<std::size_t>(in < 0 ? 0 : in);
  auto add_bias = [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
    if (!bias) return;
    for (std::size_t r = r0; r < r1; ++r) add_to(bias + c0, y + r * O + c0, c1 - c0);
  };
  if (split_rows(n)) {
    chunked(static_cast<std::size_t>(n), gemm_row_grain(out, in), [&](std::size_t rb, std::size_t re) {
      gemm(trans::no, trans::yes, static_cast<int>(re - rb), out, in, x + rb * I, in, w, in, y + rb * O, out, false);
      add_bias(rb, re, 0, O);
    });
  } else {
    chunked(O, gemm_row_grain(n, in), [&](std::size_t cb, std::size_t ce) {
      gemm(trans::no, trans::yes, n, static_cast<int>(ce - cb), in, x, in, w + cb * I, in, y + cb, out, false);
      add_bias(0, static_cast<std::size_t>(n), cb, ce);
    });
  }
}

/// Gradients of linear_forward. dw and dbias are overwritten; dx/dbias may be null.
inline void linear_backward(int n, int in, int out, const float* x, const float* w, const float* dy, float* dx,
                            float* dw, float* dbias) {
  using namespace layer_detail;
  if (out <= 0) return;
  const auto O = static_cast<std::size_t>(out), I = static_cast<std::size_t>(in < 0 ? 0 : in),
             N = static_cast<std::size_t>(n < 0 ? 0 : n);
  // dx[n x in] = dy[n x out] * w[out x in]
  if (dx && N > 0 && I > 0) {
    if (split_rows(n)) {
      chunked(N, gemm_row_grain(in, out), [&](std::size_t rb, std::size_t re) {
        gemm(trans::no, trans::no, static_cast<int>(re - rb), in, out, dy + rb * O, out, w, in, dx + rb * I, in,
             false);
      });
    } else {
      chunked(I, gemm_row_grain(n, out), [&](std::size_t cb, std::size_t ce) {
        gemm(trans::no, trans::no, n, static_cast<int>(ce - cb), out, dy, out, w + cb, in, dx + cb, in, false);
      });
    }
  }
  // dw[out x in] = dy^T * x, dbias = column sums of dy; split over output features.
  chunked(O, gemm_row_grain(in, n), [&](std::size_t ob, std::size_t oe) {
    const int rows = static_cast<int>(oe - ob);
    if (I > 0) {
      if (N > 0)
        gemm(trans::yes, trans::no, rows, in, n, dy + ob, out, x, in, dw + ob * I, in, false);
      else
        fill(dw + ob * I, (oe - ob) * I, 0.0f);
    }
    if (dbias) {
      fill(dbias + ob, oe - ob, 0.0f);
      for (std::size_t r = 0; r < N; ++r) add_to(dy + r * O + ob, dbias + ob, oe - ob);
    }
  });
}

STATICNET_CPU_KERNELS_END
