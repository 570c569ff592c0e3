// staticnet/engine/inference_plan.hpp: the memory plan of inference, planned at
// compile time from a network plan, its training memory plan and its fusion plan.
//
// Training keeps every activation until backward; inference needs a tensor
// only until its last reader has run. make_inference_plan assigns every
// tensor an offset in one arena (per image, in floats) so that two tensors
// share memory only when their lifetimes do not overlap:
//
//   * a tensor is live from the row that writes it to the last row that reads
//     it (a layer's input, a merge's branch, or the network output, which
//     stays live to the end); a row's output is placed before its inputs are
//     released, so no kernel writes over what it reads;
//   * Flatten, Identity, Dropout (eval: the identity) and the block and branch
//     markers alias their input; a ReLU runs in place where the training plan
//     already runs it in place (after a conv, BatchNorm, ...);
//   * with `fold = true`, a BatchNorm folded into the conv before it
//     (fusion_plan::fold_target) writes nothing: the conv writes the tensor the
//     BatchNorm would have (and applies a ReLU after it as its epilogue);
//   * offsets are first-fit in the arena, each tensor rounded up to 16 floats.
//
//   constexpr auto ip = sn::make_inference_plan(Net::plan, make_exec_plan(Net::plan),
//                                               make_fusion_plan(Net::plan, make_exec_plan(Net::plan)));
//   ip.act_per_image  // floats per image, the input included
//
// sn::inference_activation_floats<Net> and sn::training_activation_floats<Net>
// are the two figures per image (the training one is exec_plan::act_per_image).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "../core/op.hpp"
#include "../core/plan.hpp"
#include "../network.hpp"
#include "fusion.hpp"
#include "memory_plan.hpp"

namespace staticnet {

struct inference_row {
  int src = -1;      ///< tensor this row reads (-1: the network input; else the row that wrote it)
  int tensor = -1;   ///< tensor holding this row's output (-1: the input; else the row that wrote it)
  bool writes = false;   ///< the row writes a tensor of its own (else it aliases or runs in place)
  bool skip = false;     ///< the row runs nothing (alias, folded BatchNorm, fused ReLU, eval Dropout)
  std::int64_t offset = 0;  ///< per-image float offset of this row's output in the arena
  int last_use = -1;        ///< when this row writes a tensor: the last row that reads it
};

template <std::size_t N>
struct inference_plan {
  std::array<inference_row, N> rows{};
  std::int64_t input_offset = 0;   ///< offset of the network input in the arena (always 0)
  std::int64_t act_per_image = 0;  ///< arena floats per image
  std::int64_t tensors = 0;        ///< tensors written (the input included)
  bool folded = false;             ///< planned with folded BatchNorms

  /// Offset (per image) of tensor t (-1: the input).
  [[nodiscard]] constexpr std::int64_t offset_of(int t) const noexcept {
    return t < 0 ? input_offset : rows[static_cast<std::size_t>(t)].offset;
  }
};

/// The inference memory plan (see the file comment).
template <std::size_t N>
constexpr inference_plan<N> make_inference_plan(const plan<N>& pl, const exec_plan<N>& ex, const fusion_plan<N>& fp,
                                                bool fold = true) noexcept {
  inference_plan<N> ip;
  ip.folded = fold;
  // 1. Which tensor every row's output is (aliases resolved), and what each row reads.
  std::array<int, N> tensor{};
  auto tensor_of = [&](int row) { return row < 0 ? -1 : tensor[static_cast<std::size_t>(row)]; };
  for (std::size_t i = 0; i < N; ++i) {
    const plan_row& r = pl.rows[i];
    const exec_row& e = ex.rows[i];
    inference_row& o = ip.rows[i];
    o.src = tensor_of(e.src);
    const op_kind k = r.desc.kind;
    const bool folded_bn = fold && k == op_kind::batchnorm && e.src >= 0 &&
                           fp.fold_target[static_cast<std::size_t>(e.src)] == static_cast<int>(i);
    if (k == op_kind::branch_end) {
      tensor[i] = static_cast<int>(i), o.writes = true;
    } else if (!r.is_layer() || k == op_kind::flatten || k == op_kind::identity || k == op_kind::dropout ||
               folded_bn) {
      tensor[i] = o.src, o.skip = true;  // aliases its input (a folded BatchNorm: the conv wrote it)
    } else if (k == op_kind::relu && e.storage != static_cast<int>(i) && i >= 1 &&
               (ip.rows[i - 1].writes || (fold && i >= 2 && fp.fold_target[i - 2] == static_cast<int>(i - 1)))) {
      // In place, as in training, on a tensor its producer (the row before, or
      // the conv a BatchNorm is folded into) has just written and nothing else reads.
      tensor[i] = o.src;
      o.skip = fp.relu_into_conv[i] || fp.relu_after_bn[i];  // the conv / BatchNorm before applies it
    } else {
      tensor[i] = static_cast<int>(i), o.writes = true;
    }
    o.tensor = tensor[i];
  }
  // 2. Last reader of every tensor (index N: the network output, live to the end).
  std::array<int, N + 1> last{};  // [0]: the input, [t + 1]: tensor t
  for (auto& v : last) v = -1;
  auto read = [&](int t, int row) {
    int& l = last[static_cast<std::size_t>(t + 1)];
    if (row > l) l = row;
  };
  for (std::size_t i = 0; i < N; ++i) {
    const inference_row& o = ip.rows[i];
    if (pl.rows[i].desc.kind == op_kind::branch_end) {
      const exec_row& e = ex.rows[i];
      for (int b = 0; b < e.merge_count; ++b)
        read(tensor_of(ex.merge_src[static_cast<std::size_t>(e.merge_first + b)]), static_cast<int>(i));
    } else {
      read(o.src, static_cast<int>(i));  // an alias's readers read the same (resolved) tensor
    }
  }
  if (N > 0) read(tensor_of(static_cast<int>(N) - 1), static_cast<int>(N));  // the output
  // 3. First-fit placement in row order.
  struct block {
    std::int64_t begin = 0, end = 0;
    int tensor = -2;  // -2: free slot
  };
  std::array<block, N + 1> live{};
  int n_live = 0;
  auto place = [&](std::int64_t size, int t) {
    // live is kept sorted by begin; find the first gap of `size` floats
    std::int64_t at = 0;
    int pos = 0;
    for (; pos < n_live; ++pos) {
      if (live[static_cast<std::size_t>(pos)].begin - at >= size) break;
      at = live[static_cast<std::size_t>(pos)].end;
    }
    for (int q = n_live; q > pos; --q) live[static_cast<std::size_t>(q)] = live[static_cast<std::size_t>(q - 1)];
    live[static_cast<std::size_t>(pos)] = block{at, at + size, t};
    ++n_live;
    if (at + size > ip.act_per_image) ip.act_per_image = at + size;
    return at;
  };
  auto release_read_by = [&](int row) {
    for (int q = 0; q < n_live;) {
      if (last[static_cast<std::size_t>(live[static_cast<std::size_t>(q)].tensor + 1)] <= row) {
        for (int s = q; s + 1 < n_live; ++s) live[static_cast<std::size_t>(s)] = live[static_cast<std::size_t>(s + 1)];
        --n_live;
      } else {
        ++q;
      }
    }
  };
  ip.input_offset = place(detail::round_up16(pl.input.numel()), -1);
  ip.tensors = 1;
  for (std::size_t i = 0; i < N; ++i) {
    inference_row& o = ip.rows[i];
    if (o.writes) {
      o.offset = place(detail::round_up16(pl.rows[i].out.numel()), static_cast<int>(i));
      o.last_use = last[i + 1];
      ++ip.tensors;
    }
    release_read_by(static_cast<int>(i));
  }
  for (std::size_t i = 0; i < N; ++i)
    if (!ip.rows[i].writes) ip.rows[i].offset = ip.offset_of(ip.rows[i].tensor);
  return ip;
}

/// Activation floats per image of training (every activation kept for backward,
/// the input included: exec_plan::act_per_image).
template <network Net>
inline constexpr std::int64_t training_activation_floats = make_exec_plan(Net::plan).act_per_image;

/// Activation floats per image of inference with folded BatchNorms (the arena
/// of make_inference_plan, the input included).
template <network Net>
inline constexpr std::int64_t inference_activation_floats =
    make_inference_plan(Net::plan, make_exec_plan(Net::plan), make_fusion_plan(Net::plan, make_exec_plan(Net::plan)))
        .act_per_image;

/// The line the programs print after --summary: activation memory per image
/// of training (the memory plan) and of inference (the inference plan), e.g.
/// "activation memory per image: training 1.23 MB, inference 0.10 MB (8%)".
template <network Net>
[[nodiscard]] std::string activation_memory_line() {
  constexpr double mb = 1024.0 * 1024.0;
  const double train = 4.0 * static_cast<double>(training_activation_floats<Net>) / mb;
  const double infer = 4.0 * static_cast<double>(inference_activation_floats<Net>) / mb;
  char buf[160];
  std::snprintf(buf, sizeof buf, "activation memory per image: training %.2f MB, inference %.2f MB (%.0f%%)", train,
                infer, 100.0 * infer / train);
  return buf;
}

}  // namespace staticnet
