// staticnet/cpu/pad.hpp: ZeroPad2d (torch.nn.ZeroPad2d, F.pad with zeros) on
// NCHW planes. Copies and zero fills only, so it is not in the per-ISA kernel
// table: std::memcpy / std::memset are as fast as a hand-written loop here.
//
//   zero_pad2d(n * c, h, w, {.left = 1, .right = 1, .top = 1, .bottom = 1}, x, y);  // forward
//   zero_pad2d_backward(n * c, h, w, {...}, dy, dx);                                 // the crop
//
// Negative padding crops, as in PyTorch; the backward of a pad is the crop of
// its output gradient, and that of a crop pads the gradient with zeros, so
// both are one function: zero_pad2d with the padding negated.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "../core/options.hpp"
#include "parallel.hpp"

namespace staticnet::cpu {

/// y (planes x (h + top + bottom) x (w + left + right)) = x (planes x h x w)
/// with zeros around each plane (negative values crop).
inline void zero_pad2d(int planes, int h, int w, const pad& p, const float* x, float* y) {
  const int ho = h + p.top + p.bottom, wo = w + p.left + p.right;
  if (planes <= 0 || ho <= 0 || wo <= 0) return;
  // Output columns [c0, c1) come from input columns [c0 - left, c1 - left).
  const int c0 = std::max(0, p.left), c1 = std::min(wo, w + p.left);
  const int r0 = std::max(0, p.top), r1 = std::min(ho, h + p.top);
  const std::size_t in_plane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
  const std::size_t out_plane = static_cast<std::size_t>(ho) * static_cast<std::size_t>(wo);
  auto one_plane = [&](const float* xp, float* yp) {
    if (c0 >= c1 || r0 >= r1) {
      std::memset(yp, 0, out_plane * sizeof(float));
      return;
    }
    std::memset(yp, 0, static_cast<std::size_t>(r0) * static_cast<std::size_t>(wo) * sizeof(float));
    for (int r = r0; r < r1; ++r) {
      float* yr = yp + static_cast<std::size_t>(r) * static_cast<std::size_t>(wo);
      const float* xr = xp + static_cast<std::size_t>(r - p.top) * static_cast<std::size_t>(w) + (c0 - p.left);
      std::memset(yr, 0, static_cast<std::size_t>(c0) * sizeof(float));
      std::memcpy(yr + c0, xr, static_cast<std::size_t>(c1 - c0) * sizeof(float));
      std::memset(yr + c1, 0, static_cast<std::size_t>(wo - c1) * sizeof(float));
    }
    std::memset(yp + static_cast<std::size_t>(r1) * static_cast<std::size_t>(wo), 0,
                static_cast<std::size_t>(ho - r1) * static_cast<std::size_t>(wo) * sizeof(float));
  };
  // Parallel over planes once there is enough to copy (a thread per ~64k floats).
  const std::size_t total = out_plane * static_cast<std::size_t>(planes);
  if (total < (std::size_t{1} << 16) || planes == 1) {
    for (int i = 0; i < planes; ++i)
      one_plane(x + static_cast<std::size_t>(i) * in_plane, y + static_cast<std::size_t>(i) * out_plane);
    return;
  }
  parallel_for(0, planes, [&](int b, int e) {
    for (int i = b; i < e; ++i)
      one_plane(x + static_cast<std::size_t>(i) * in_plane, y + static_cast<std::size_t>(i) * out_plane);
  });
}

/// dx (planes x h x w, overwritten) = the gradient of sum(y * dy) for
/// y = zero_pad2d(x): the crop of dy (zeros where x was cropped away).
inline void zero_pad2d_backward(int planes, int h, int w, const pad& p, const float* dy, float* dx) {
  zero_pad2d(planes, h + p.top + p.bottom, w + p.left + p.right,
             pad{-p.left, -p.right, -p.top, -p.bottom}, dy, dx);
}

}  // namespace staticnet::cpu
