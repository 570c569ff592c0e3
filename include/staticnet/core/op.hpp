// staticnet/core/op.hpp: the value every layer type describes itself by.
//
// A network type is flattened to a list of ops (layers plus markers for
// blocks and branches); each op type has `static constexpr op_desc desc`.
// Shape inference and every fact are computed from an array of these
// descriptions by constexpr loops, which is far cheaper to compile than one
// template instantiation per layer and per fact.
#pragma once
#include <cstdint>
#include <string_view>

#include "errors.hpp"
#include "fixed_string.hpp"
#include "options.hpp"

namespace staticnet {

enum class op_kind : std::uint8_t {
  conv,
  batchnorm,
  relu,
  dropout,
  maxpool,
  avgpool,
  global_avgpool,
  flatten,
  linear,
  log_softmax,
  zero_pad,
  identity,
  // markers (no computation of their own)
  block_begin,
  block_end,
  branch_begin,
  branch_next,
  branch_end,
};

enum class merge_kind : std::uint8_t { add, concat };

struct op_desc {
  op_kind kind = op_kind::relu;
  conv c{};                 ///< conv options (kind == conv)
  bool depthwise = false;   ///< DepthwiseConv2d: groups = in channels
  pool p{};                 ///< pooling options
  linear l{};               ///< linear options
  probability drop{};       ///< dropout probability
  pad zp{};                 ///< ZeroPad2d's padding (kind == zero_pad)
  merge_kind merge = merge_kind::add;
  int branches = 0;         ///< branch_begin / branch_end
  short_name name{};        ///< block name (block_begin); module name (block_begin / block_end of a Module)
  bool module = false;      ///< block_begin / block_end of a Module (a named nn.Module class), not of a Block
  /// An error found in the network's types (a non-layer, an empty block name,
  /// a merge of fewer than two branches); make_plan reports it at this op.
  error err = error::none;
};

[[nodiscard]] constexpr bool is_marker(op_kind k) noexcept {
  return k == op_kind::block_begin || k == op_kind::block_end || k == op_kind::branch_begin ||
         k == op_kind::branch_next;
}

/// The PyTorch module name of an op (what torchsummary prints).
[[nodiscard]] constexpr std::string_view kind_name(op_kind k) noexcept {
  switch (k) {
    case op_kind::conv: return "Conv2d";
    case op_kind::batchnorm: return "BatchNorm2d";
    case op_kind::relu: return "ReLU";
    case op_kind::dropout: return "Dropout";
    case op_kind::maxpool: return "MaxPool2d";
    case op_kind::avgpool: return "AvgPool2d";
    case op_kind::global_avgpool: return "AdaptiveAvgPool2d";
    case op_kind::flatten: return "Flatten";
    case op_kind::linear: return "Linear";
    case op_kind::log_softmax: return "LogSoftmax";
    case op_kind::zero_pad: return "ZeroPad2d";
    case op_kind::identity: return "Identity";
    case op_kind::block_begin: return "Block";
    case op_kind::block_end: return "EndBlock";
    case op_kind::branch_begin: return "Branches";
    case op_kind::branch_next: return "NextBranch";
    case op_kind::branch_end: return "Merge";
  }
  return "?";
}

}  // namespace staticnet
