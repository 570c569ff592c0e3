// staticnet/core/plan.hpp: the compile-time plan of a network — one row per op
// with its input/output shape, facts and receptive field, computed by a
// constexpr loop over the flat op list (branches use a small stack).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "op.hpp"
#include "shape.hpp"
#include "type_list.hpp"
#include "errors.hpp"
#include "infer.hpp"

namespace staticnet {

/// One row of a plan: an op (layer or marker) with everything known about it.
struct plan_row {
  op_desc desc{};
  int number = 0;        ///< 1-based layer number (0 for markers)
  int block = -1;        ///< innermost enclosing block (index into plan::blocks) or -1
  int depth = 0;         ///< branch nesting depth
  shape in{}, out{};
  layer_facts f{};
  int rf_h = 1, rf_w = 1;      ///< receptive field after this op
  int jump_h = 1, jump_w = 1;  ///< jump (product of strides) after this op
  bool separable = false;      ///< a pointwise conv that completes a depthwise-separable pair
  /// A row of torchsummary's table for the network's PyTorch form (the module
  /// export_pytorch writes): every layer, except Flatten and LogSoftmax directly
  /// in the Network or a Module, whose forward applies them as functions
  /// (torch.flatten, F.log_softmax); inside a Block (an nn.Sequential) or a
  /// branch they are nn.Flatten / nn.LogSoftmax modules; and the end of every
  /// Module (its row comes after its layers'). Add / Concat merges are never rows.
  bool torch_row = false;

  [[nodiscard]] constexpr bool is_layer() const noexcept { return number > 0; }
  [[nodiscard]] constexpr bool is_conv() const noexcept { return desc.kind == op_kind::conv; }
};

struct block_info {
  short_name name{};
  int parent = -1;   ///< enclosing block or -1 (top level)
  int first = 0;     ///< row of its block_begin marker
  int last = 0;      ///< row of its block_end marker
  int convs = 0;     ///< conv ops inside (nested blocks included)
  int conv_layers = 0;  ///< convs, a depthwise-separable pair counting as one
  int branch_groups = 0;  ///< Add / Concat merges directly or indirectly inside
};

template <std::size_t N>
struct plan {
  std::array<plan_row, N> rows{};
  std::array<block_info, (N > 0 ? N : 1)> blocks{};
  int n_blocks = 0;
  int n_layers = 0;
  shape input{}, output{};
  error err = error::none;
  int err_row = -1;     ///< row of the first invalid op
  /// Its layer number as in the summary. For an error at a marker (an Add /
  /// Concat whose branches disagree, a too-deep block or branch), which has
  /// no number: the number of the last layer before that marker (for a merge,
  /// the last layer of the branch just ended, unless that branch is empty).
  int err_layer = 0;
  /// The shape reaching the invalid op: its input (for a merge, the input
  /// of the branches).
  shape err_in{};
  /// For E_ADD_SHAPE / E_CONCAT_SHAPE: what the first branch gives and what
  /// branch number `err_branch` (1-based) gives instead.
  shape err_first{}, err_other{};
  int err_branch = 0;

  std::int64_t params = 0, buffers = 0, macs = 0, mult_adds = 0;
  int rf_h = 1, rf_w = 1, jump_h = 1, jump_w = 1;

  static constexpr std::size_t size = N;
};

namespace detail {

struct branch_frame {
  shape in{};
  int rf_h = 1, rf_w = 1, jump_h = 1, jump_w = 1;
  shape acc{};
  bool have = false;
  shape first{};   ///< what the first branch gives
  int merged = 0;  ///< branches merged so far
  int acc_rf_h = 1, acc_rf_w = 1, acc_jump_h = 1, acc_jump_w = 1;
  merge_kind merge = merge_kind::add;
};

constexpr int imax(int a, int b) noexcept { return a > b ? a : b; }

template <std::size_t N>
constexpr plan<N> make_plan(shape input, const std::array<op_desc, N>& ops) noexcept {
  plan<N> pl;
  pl.input = input;
  constexpr int max_depth = 32;
  std::array<branch_frame, max_depth> frames{};
  int depth = 0;
  std::array<int, max_depth> block_stack{};
  int block_depth = 0;
  int module_depth = 0;
  // Containers enclosing the current op, innermost last: true for one whose
  // PyTorch form has a forward of its own (the Network, a Module), false for
  // an nn.Sequential (a Block, a branch).
  std::array<bool, 3 * max_depth + 2> chain{};
  int containers = 0;
  chain[containers++] = true;

  shape cur = input;
  int rf_h = 1, rf_w = 1, jh = 1, jw = 1;
  int last_compute = -1;  // last row that could start a depthwise-separable pair

  auto fail = [&](std::size_t i, error e, shape in) {
    if (pl.err == error::none) {
      pl.err = e;
      pl.err_row = static_cast<int>(i);
      pl.err_layer = pl.rows[i].is_layer() ? pl.rows[i].number : pl.n_layers;
      pl.err_in = in;
    }
  };
  // Merge the shape reaching a branch's end into the frame's accumulator.
  auto merge_branch = [&](std::size_t i, branch_frame& fr) {
    ++fr.merged;
    auto mismatch = [&](error e) {
      if (pl.err != error::none) return;
      fail(i, e, fr.in);
      pl.err_first = fr.first;
      pl.err_other = cur;
      pl.err_branch = fr.merged;
    };
    if (!fr.have) {
      fr.acc = fr.first = cur;
      fr.have = true;
    } else if (fr.merge == merge_kind::add) {
      if (!(fr.acc == cur)) mismatch(error::add_shape_mismatch);
    } else {
      if (fr.acc.h != cur.h || fr.acc.w != cur.w || fr.acc.flat != cur.flat)
        mismatch(error::concat_spatial_mismatch);
      else
        fr.acc.c += cur.c;
    }
    fr.acc_rf_h = imax(fr.acc_rf_h, rf_h);
    fr.acc_rf_w = imax(fr.acc_rf_w, rf_w);
    fr.acc_jump_h = imax(fr.acc_jump_h, jh);
    fr.acc_jump_w = imax(fr.acc_jump_w, jw);
  };

  // Errors of the network as a whole: no row, no layer number.
  if (N == 0 || input.c < 1 || input.h < 1 || input.w < 1) {
    pl.err = N == 0 ? error::empty_network : error::input_nonpositive;
    pl.err_in = input;
  }

  for (std::size_t i = 0; i < N; ++i) {
    plan_row& r = pl.rows[i];
    r.desc = ops[i];
    r.in = cur;
    r.depth = depth;
    r.block = block_depth > 0 ? block_stack[block_depth - 1] : -1;
    const op_kind k = ops[i].kind;
    if (k == op_kind::block_begin && ops[i].module) {
      if (ops[i].err != error::none) fail(i, ops[i].err, cur);
      if (module_depth == max_depth) { fail(i, error::nesting_too_deep, cur); break; }
      ++module_depth;
      chain[containers++] = true;
      last_compute = -1;
    } else if (k == op_kind::block_end && ops[i].module) {
      if (module_depth > 0) --module_depth;
      if (containers > 1) --containers;
      r.torch_row = true;  // torchsummary's row of a custom module, after its layers'
      last_compute = -1;
    } else if (k == op_kind::block_begin) {
      if (ops[i].err != error::none) fail(i, ops[i].err, cur);
      if (block_depth == max_depth) { fail(i, error::nesting_too_deep, cur); break; }
      block_info& b = pl.blocks[pl.n_blocks];
      b.name = ops[i].name;
      b.parent = r.block;
      b.first = static_cast<int>(i);
      block_stack[block_depth++] = pl.n_blocks++;
      chain[containers++] = false;
      last_compute = -1;  // a depthwise-separable pair does not span blocks
    } else if (k == op_kind::block_end) {
      if (block_depth > 0) pl.blocks[block_stack[--block_depth]].last = static_cast<int>(i);
      if (containers > 1) --containers;
      last_compute = -1;
    } else if (k == op_kind::branch_begin) {
      if (depth == max_depth) { fail(i, error::nesting_too_deep, cur); break; }
      frames[depth] = branch_frame{};
      frames[depth].in = cur;
      frames[depth].rf_h = rf_h, frames[depth].rf_w = rf_w, frames[depth].jump_h = jh, frames[depth].jump_w = jw;
      frames[depth].merge = ops[i].merge;
      ++depth;
      chain[containers++] = false;
      last_compute = -1;
    } else if (k == op_kind::branch_next) {
      branch_frame& fr = frames[depth - 1];
      merge_branch(i, fr);
      cur = fr.in;
      rf_h = fr.rf_h, rf_w = fr.rf_w, jh = fr.jump_h, jw = fr.jump_w;
      last_compute = -1;
    } else if (k == op_kind::branch_end) {
      branch_frame& fr = frames[depth - 1];
      merge_branch(i, fr);
      cur = fr.acc;
      rf_h = fr.acc_rf_h, rf_w = fr.acc_rf_w, jh = fr.acc_jump_h, jw = fr.acc_jump_w;
      --depth;
      if (containers > 1) --containers;
      r.depth = depth;
      last_compute = -1;
      for (int b = 0; b < block_depth; ++b) ++pl.blocks[block_stack[b]].branch_groups;
    } else {
      r.number = ++pl.n_layers;
      r.f = infer(ops[i], cur);
      if (ops[i].err != error::none) r.f.err = ops[i].err;  // not a layer, too few branches
      if (r.f.err != error::none) {
        fail(i, r.f.err, cur);
        r.f.out = cur;  // keep going with an unchanged shape; only the first error is reported
      }
      cur = r.f.out;
      if (r.f.spatial) {
        rf_h += r.f.g.dh * (r.f.g.kh - 1) * jh;
        rf_w += r.f.g.dw * (r.f.g.kw - 1) * jw;
        jh *= r.f.g.sh;
        jw *= r.f.g.sw;
      }
      pl.params += r.f.params;
      pl.buffers += r.f.buffers;
      pl.macs += r.f.macs;
      pl.mult_adds += r.f.mult_adds;
      r.torch_row = !((k == op_kind::flatten || k == op_kind::log_softmax) && chain[containers - 1]);
      if (k == op_kind::conv) {
        if (r.f.pointwise && last_compute >= 0 && pl.rows[last_compute].f.depthwise) r.separable = true;
        for (int b = 0; b < block_depth; ++b) {
          ++pl.blocks[block_stack[b]].convs;
          if (!r.separable) ++pl.blocks[block_stack[b]].conv_layers;
        }
        last_compute = static_cast<int>(i);
      } else if (k != op_kind::batchnorm && k != op_kind::relu && k != op_kind::dropout &&
                 k != op_kind::identity) {
        last_compute = -1;  // BN / ReLU / Dropout / Identity may sit between depthwise and pointwise
      }
    }
    r.out = cur;
    r.rf_h = rf_h, r.rf_w = rf_w, r.jump_h = jh, r.jump_w = jw;
  }
  pl.output = cur;
  pl.rf_h = rf_h, pl.rf_w = rf_w, pl.jump_h = jh, pl.jump_w = jw;
  return pl;
}

template <class List>
struct op_array;
template <class... Ops>
struct op_array<type_list<Ops...>> {
  static constexpr std::array<op_desc, sizeof...(Ops)> value{Ops::desc...};
};

}  // namespace detail

/// The plan of a flat op list applied to an input shape.
template <class OpList>
constexpr auto make_plan(shape input) noexcept {
  return detail::make_plan(input, detail::op_array<OpList>::value);
}

}  // namespace staticnet
