// staticnet/engine/memory_plan.hpp: where every tensor of a network lives, planned at
// compile time from its plan — parameter offsets, activation buffers,
// per-layer saved state and gradient buffers — for a maximum batch size.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "../core/op.hpp"
#include "../core/plan.hpp"

namespace staticnet {

struct exec_row {
  int src = -1;        ///< row whose output is this row's input (-1: the network input)
  int storage = -1;    ///< row whose activation buffer holds this row's output (-1: the input buffer)
  std::int64_t act = 0;      ///< offset (floats) of this row's own activation buffer
  std::int64_t param = 0;    ///< offset of its first parameter (weight, then bias)
  std::int64_t weight = 0;   ///< number of weight floats
  std::int64_t bias = 0;     ///< number of bias floats
  std::int64_t buffer = 0;   ///< offset of its buffers (BN running mean, then running var)
  std::int64_t saved = 0;    ///< offset (floats) of per-batch saved statistics (BN mean, invstd)
  std::int64_t aux = 0;      ///< offset (bytes) of per-image auxiliary state (dropout mask, maxpool argmax)
  int merge_first = 0;       ///< branch_end: first index into exec_plan::merge_src
  int merge_count = 0;       ///< branch_end: number of branches
};

template <std::size_t N>
struct exec_plan {
  std::array<exec_row, N> rows{};
  std::array<int, (N > 0 ? N : 1)> merge_src{};  ///< branch results, per branch_end
  std::int64_t params = 0;          ///< trainable floats
  std::int64_t buffers = 0;         ///< buffer floats
  std::int64_t act_per_image = 0;   ///< activation floats per image (input buffer included)
  std::int64_t saved = 0;           ///< saved-statistics floats (independent of batch)
  std::int64_t aux_per_image = 0;   ///< auxiliary bytes per image
  std::int64_t max_numel = 0;       ///< the largest activation of one image (floats)
  int max_depth = 0;                ///< deepest branch nesting
};

namespace detail {
constexpr std::int64_t round_up16(std::int64_t v) noexcept { return (v + 15) / 16 * 16; }
}  // namespace detail

/// The memory plan of a network plan: offsets are per image for activations
/// and auxiliary state (multiply by the batch) and absolute otherwise.
template <std::size_t N>
constexpr exec_plan<N> make_exec_plan(const plan<N>& pl) noexcept {
  exec_plan<N> ex;
  struct frame {
    int start = -1;
    int ends_first = 0;
    int count = 0;
  };
  std::array<frame, 34> frames{};
  std::array<int, (N > 0 ? N : 1)> pending{};  // branch results waiting for their branch_end
  int n_pending = 0;
  int depth = 0;
  int merges = 0;

  ex.act_per_image = detail::round_up16(pl.input.numel());  // the input buffer comes first
  ex.max_numel = pl.input.numel();
  int cur = -1;
  auto storage_of = [&](int row) { return row < 0 ? -1 : ex.rows[static_cast<std::size_t>(row)].storage; };

  for (std::size_t i = 0; i < N; ++i) {
    const plan_row& r = pl.rows[i];
    exec_row& e = ex.rows[i];
    e.src = cur;
    const op_kind k = r.desc.kind;
    if (r.out.numel() > ex.max_numel) ex.max_numel = r.out.numel();
    switch (k) {
      case op_kind::block_begin:
      case op_kind::block_end: e.storage = storage_of(cur); break;
      case op_kind::branch_begin:
        e.storage = storage_of(cur);
        frames[static_cast<std::size_t>(depth)] = frame{cur, n_pending, 0};
        ++depth;
        if (depth > ex.max_depth) ex.max_depth = depth;
        break;
      case op_kind::branch_next: {
        frame& f = frames[static_cast<std::size_t>(depth - 1)];
        pending[static_cast<std::size_t>(n_pending++)] = cur;
        ++f.count;
        e.storage = storage_of(f.start);
        cur = f.start;
        e.src = cur;
        break;
      }
      case op_kind::branch_end: {
        frame& f = frames[static_cast<std::size_t>(depth - 1)];
        pending[static_cast<std::size_t>(n_pending++)] = cur;
        ++f.count;
        e.merge_first = merges;
        e.merge_count = f.count;
        for (int b = 0; b < f.count; ++b)
          ex.merge_src[static_cast<std::size_t>(merges++)] = pending[static_cast<std::size_t>(f.ends_first + b)];
        n_pending = f.ends_first;
        --depth;
        e.storage = static_cast<int>(i);
        e.act = ex.act_per_image;
        ex.act_per_image += detail::round_up16(r.out.numel());
        cur = static_cast<int>(i);
        break;
      }
      case op_kind::flatten:
      case op_kind::identity:  // both alias their input
        e.storage = storage_of(cur);
        cur = static_cast<int>(i);
        break;
      default: {
        // ReLU runs in place on its input when nothing else reads that tensor:
        // its producer directly precedes it (so no branch also consumes it) and
        // the producer's backward does not need its own output.
        const bool in_place = k == op_kind::relu && cur >= 0 && cur == static_cast<int>(i) - 1 &&
                              pl.rows[static_cast<std::size_t>(cur)].is_layer() &&
                              ex.rows[static_cast<std::size_t>(cur)].storage == cur &&
                              pl.rows[static_cast<std::size_t>(cur)].desc.kind != op_kind::relu &&
                              pl.rows[static_cast<std::size_t>(cur)].desc.kind != op_kind::log_softmax;
        if (in_place) {
          e.storage = cur;
          e.act = ex.rows[static_cast<std::size_t>(cur)].act;
          cur = static_cast<int>(i);
          break;
        }
        e.storage = static_cast<int>(i);
        e.act = ex.act_per_image;
        ex.act_per_image += detail::round_up16(r.out.numel());
        e.param = ex.params;
        if (k == op_kind::conv || k == op_kind::linear) {
          e.bias = r.f.bias ? r.out.c : 0;
          e.weight = r.f.params - e.bias;
        } else if (k == op_kind::batchnorm) {
          e.weight = r.in.c;
          e.bias = r.in.c;
          e.buffer = ex.buffers;
          ex.buffers += 2 * r.in.c;
          e.saved = ex.saved;
          ex.saved += 2 * r.in.c;
        }
        ex.params += e.weight + e.bias;
        if (k == op_kind::dropout) {
          e.aux = ex.aux_per_image;
          ex.aux_per_image += detail::round_up16(r.out.numel());  // one byte per element
        } else if (k == op_kind::maxpool) {
          e.aux = ex.aux_per_image;
          ex.aux_per_image += detail::round_up16(r.out.numel() * 4);  // int32 per element
        }
        cur = static_cast<int>(i);
        break;
      }
    }
  }
  return ex;
}

}  // namespace staticnet
