// staticnet/engine/fusion.hpp: which neighbouring layers an engine fuses, as a
// compile-time plan computed from the network plan, its memory plan and the
// backend's capabilities (what its kernels can do). Fusions never change a
// result, only the memory passes made:
//
//   fold_target[c]      the BatchNorm row folded into conv row c for inference
//                       (eval mode, fold_batchnorm()), else -1
//   relu_into_conv[i]   row i is a ReLU, in place on the output of the conv at
//                       row i - 1: the conv applies it while writing its output
//   relu_into_bn[i]     row i is a ReLU read only by the BatchNorm at row i + 1:
//                       that BatchNorm's backward applies the ReLU's mask to its
//                       input gradient, and the ReLU's own backward is skipped
//   relu_after_bn[i]    row i is a ReLU, in place on the output of the BatchNorm
//                       at row i - 1 (whose input is not itself a fused ReLU's
//                       output): the BatchNorm applies it in its forward and
//                       rebuilds its mask in its backward
//   stats_for_bn[j]     the BatchNorm row whose per-plane statistics conv row j
//                       computes while its output is still in cache (directly,
//                       or through a ReLU the conv applies), else -1
//   bn_stats_ready[i]   the BatchNorm at row i takes its statistics from its conv
//
//   constexpr auto fp = sn::make_fusion_plan(Net::plan, make_exec_plan(Net::plan),
//                                            sn::fusion_caps{.stats_from_conv = false});
#pragma once
#include <array>
#include <cstddef>

#include "../core/op.hpp"
#include "../core/plan.hpp"
#include "memory_plan.hpp"

namespace staticnet {

/// What a backend's kernels can fuse (each fusion is used only where the
/// backend has it; a backend that has none runs every layer on its own).
struct fusion_caps {
  bool fold_bn = true;          ///< conv + BatchNorm folding for inference
  bool relu_into_conv = true;   ///< a conv's forward applies the ReLU after it
  bool relu_into_bn = true;     ///< a BatchNorm's backward applies the mask of the ReLU before it
  bool relu_after_bn = true;    ///< a BatchNorm applies the ReLU after it (forward) and its mask (backward)
  bool stats_from_conv = true;  ///< a conv's forward computes the next BatchNorm's plane statistics
};

template <std::size_t N>
struct fusion_plan {
  std::array<int, N> fold_target{};
  std::array<bool, N> relu_into_conv{};
  std::array<bool, N> relu_into_bn{};
  std::array<bool, N> relu_after_bn{};
  std::array<int, N> stats_for_bn{};
  std::array<bool, N> bn_stats_ready{};
  int foldable_pairs = 0;  ///< conv + BatchNorm pairs fold_batchnorm() folds

  /// Whether the layer at row i applies a ReLU that follows it (relu_into_conv / relu_after_bn).
  [[nodiscard]] constexpr bool applies_next_relu(std::size_t i) const noexcept {
    return i + 1 < N && (relu_into_conv[i + 1] || relu_after_bn[i + 1]);
  }
};

/// The fusion plan of a network plan and its memory plan for a backend's capabilities.
template <std::size_t N>
constexpr fusion_plan<N> make_fusion_plan(const plan<N>& pl, const exec_plan<N>& ex, fusion_caps caps = {}) noexcept {
  fusion_plan<N> fp;
  auto kind = [&](std::size_t i) { return pl.rows[i].desc.kind; };
  auto src = [&](std::size_t i) { return ex.rows[i].src; };
  auto storage = [&](std::size_t i) { return ex.rows[i].storage; };
  const int n = static_cast<int>(N);
  for (std::size_t i = 0; i < N; ++i) fp.fold_target[i] = -1, fp.stats_for_bn[i] = -1;
  for (std::size_t i = 1; i < N && caps.fold_bn; ++i) {
    const std::size_t c = i - 1;
    if (kind(i) == op_kind::batchnorm && pl.rows[c].is_conv() && src(i) == static_cast<int>(c) &&
        storage(c) == static_cast<int>(c))
      fp.fold_target[c] = static_cast<int>(i), ++fp.foldable_pairs;
  }
  for (std::size_t i = 1; i < N && caps.relu_into_conv; ++i)
    fp.relu_into_conv[i] = kind(i) == op_kind::relu && pl.rows[i - 1].is_conv() &&
                           src(i) == static_cast<int>(i - 1) && storage(i) == storage(i - 1);
  for (std::size_t i = 0; i + 1 < N && caps.relu_into_bn; ++i)
    fp.relu_into_bn[i] = kind(i) == op_kind::relu && kind(i + 1) == op_kind::batchnorm &&
                         src(i + 1) == static_cast<int>(i);
  for (std::size_t i = 1; i < N && caps.relu_after_bn; ++i)
    fp.relu_after_bn[i] = kind(i) == op_kind::relu && kind(i - 1) == op_kind::batchnorm &&
                          src(i) == static_cast<int>(i - 1) && storage(i) == storage(i - 1) &&
                          !(i >= 2 && fp.relu_into_bn[i - 2]);
  for (std::size_t j = 0; j < N && caps.stats_from_conv; ++j) {
    if (!pl.rows[j].is_conv()) continue;
    const std::size_t i = j + 1 < N && fp.relu_into_conv[j + 1] ? j + 2 : j + 1;
    if (static_cast<int>(i) < n && kind(i) == op_kind::batchnorm && src(i) == static_cast<int>(i - 1)) {
      fp.stats_for_bn[j] = static_cast<int>(i);
      fp.bn_stats_ready[i] = true;
    }
  }
  return fp;
}

}  // namespace staticnet
