// staticnet/rules.hpp: assignment rules as compile-time predicates.
//
//   static_assert(satisfies<Net, rules::ParamsBelow<200'000>, rules::MinDilatedConvs<1>>);
//   static_assert(check<Net, exercises::S9>);   // fails with the broken rule's message
//
// `satisfies` is a plain bool. `check` instantiates each rule's verifier, so a
// broken rule fails with its own message and the measured value in the note
// (and nothing naming the network's type):
//   In instantiation of 'struct staticnet::rules::ParamsBelow<100000>::verify<1, 123456>'
//   error: static assertion failed: staticnet rule [R_PARAMS_BELOW]: ...
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "facts.hpp"
#include "network.hpp"

namespace staticnet {

/// A rule: measures a network and judges the measurement.
template <class R, class Net>
concept rule_for = requires {
  { R::template holds<Net>() } -> std::same_as<bool>;
  { R::template check<Net>() } -> std::same_as<bool>;
};

namespace rules {

/// A measured verdict: code 0 = holds, otherwise which invariant broke; value = what was measured.
struct verdict {
  int code = 0;
  std::int64_t value = 0;
};

/// The verdicts of N rules (the leaves of a rules::all), as a template argument.
template <std::size_t N>
struct verdict_list {
  int code[N > 0 ? N : 1]{};
  std::int64_t value[N > 0 ? N : 1]{};

  /// The M verdicts from Offset on.
  template <std::size_t Offset, std::size_t M>
  [[nodiscard]] constexpr verdict_list<M> part() const noexcept {
    verdict_list<M> p{};
    for (std::size_t i = 0; i < M; ++i) p.code[i] = code[Offset + i], p.value[i] = value[Offset + i];
    return p;
  }
};

}  // namespace rules

namespace detail {
/// A rule's verdicts, or "holds" for an invalid network (whose error is
/// reported instead, and whose partial figures no rule may judge).
template <class Rule, class Net, bool Valid>
constexpr auto rule_verdicts() noexcept {
  if constexpr (Valid)
    return Rule::template verdicts<Net>();
  else
    return rules::verdict_list<Rule::leaves>{};
}
}  // namespace detail

/// True when the network satisfies every rule (no diagnostics beyond the
/// network's own error, if it has one).
template <network Net, class... Rules>
inline constexpr detail::fact_t<Net::report::value, bool> satisfies = (Rules::template holds<Net>() && ...);

/// Like satisfies, but a broken rule is a compile error naming the rule.
/// Each rule's `verify<Code, Value>` is completed right here, in the type of
/// this variable, so the error's note is `Rule::verify<Code, Value>` and at
/// most one line naming the rules::all it belongs to, never the network's
/// type. For an invalid network only the network's error is reported.
template <network Net, class... Rules>
inline constexpr detail::fact_t<
    Net::report::value &&
        (Rules::template checked<detail::rule_verdicts<Rules, Net, Net::report::value>()>::value && ...),
    bool>
    check = true;

namespace rules {

/// Shared plumbing: a rule derives from rule_base<Self> and provides
/// `measure<Net>()` and a nested `template <int Code, std::int64_t Value> struct verify`.
template <class Self>
struct rule_base {
  template <network Net>
  static constexpr bool holds() {
    return Self::template measure<Net>().code == 0;
  }
  /// staticnet::check<Net, Self> (which reports a broken rule with a shorter note).
  template <network Net>
  static constexpr bool check() {
    return ::staticnet::check<Net, Self>;
  }
  /// How check<> sees a rule: one verdict, judged by verify<Code, Value>.
  static constexpr std::size_t leaves = 1;
  template <network Net>
  static constexpr verdict_list<1> verdicts() {
    constexpr verdict v = Self::template measure<Net>();
    return {{v.code}, {v.value}};
  }
  template <verdict_list<1> V, class S = Self>  // S: Self is incomplete here
  using checked = typename S::template verify<V.code[0], V.value[0]>;
};

/// Fewer than N trainable parameters.
template <std::int64_t N>
struct ParamsBelow : rule_base<ParamsBelow<N>> {
  template <network Net>
  static constexpr verdict measure() {
    return {param_count<Net> < N ? 0 : 1, param_count<Net>};
  }
  template <int Code, std::int64_t Params>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_PARAMS_BELOW]: ParamsBelow<N>: the network has N or more "
                  "trainable parameters (the count is the second argument of verify<>)");
    static constexpr bool value = true;
  };
};

/// Receptive field (before global pooling) strictly greater than N.
template <int N>
struct ReceptiveFieldAbove : rule_base<ReceptiveFieldAbove<N>> {
  template <network Net>
  static constexpr verdict measure() {
    return {receptive_field<Net> > N ? 0 : 1, receptive_field<Net>};
  }
  template <int Code, std::int64_t RF>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_RECEPTIVE_FIELD]: ReceptiveFieldAbove<N>: the receptive field "
                  "is not above N (measured value: second argument of verify<>)");
    static constexpr bool value = true;
  };
};

/// At least N convolutions with dilation > 1.
template <int N>
struct MinDilatedConvs : rule_base<MinDilatedConvs<N>> {
  template <network Net>
  static constexpr verdict measure() {
    return {dilated_conv_count<Net> >= N ? 0 : 1, dilated_conv_count<Net>};
  }
  template <int Code, std::int64_t Count>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_DILATED_CONVS]: MinDilatedConvs<N>: fewer than N dilated "
                  "convolutions");
    static constexpr bool value = true;
  };
};

/// At least N depthwise-separable convolutions (a depthwise conv followed by a
/// 1x1 conv; BatchNorm / ReLU / Dropout may sit between them).
template <int N>
struct MinSeparableConvs : rule_base<MinSeparableConvs<N>> {
  template <network Net>
  static constexpr verdict measure() {
    return {separable_conv_count<Net> >= N ? 0 : 1, separable_conv_count<Net>};
  }
  template <int Code, std::int64_t Count>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_SEPARABLE_CONVS]: MinSeparableConvs<N>: fewer than N "
                  "depthwise-separable convolutions (depthwise conv followed by a 1x1 conv)");
    static constexpr bool value = true;
  };
};

/// At least N depthwise convolutions (groups == input channels).
template <int N>
struct MinDepthwiseConvs : rule_base<MinDepthwiseConvs<N>> {
  template <network Net>
  static constexpr verdict measure() {
    return {depthwise_conv_count<Net> >= N ? 0 : 1, depthwise_conv_count<Net>};
  }
  template <int Code, std::int64_t Count>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_DEPTHWISE_CONVS]: MinDepthwiseConvs<N>: fewer than N depthwise "
                  "convolutions");
    static constexpr bool value = true;
  };
};

/// No MaxPool2d anywhere (a global one, a window over the whole map, is global pooling).
struct NoMaxPool : rule_base<NoMaxPool> {
  template <network Net>
  static constexpr verdict measure() {
    return {maxpool_count<Net> == 0 ? 0 : 1, maxpool_count<Net>};
  }
  template <int Code, std::int64_t Count>
  struct verify {
    static_assert(Code == 0, "staticnet rule [R_NO_MAXPOOL]: NoMaxPool: the network uses max pooling");
    static constexpr bool value = true;
  };
};

/// Exactly N MaxPool2d layers.
template <int N>
struct ExactMaxPools : rule_base<ExactMaxPools<N>> {
  template <network Net>
  static constexpr verdict measure() {
    return {maxpool_count<Net> == N ? 0 : 1, maxpool_count<Net>};
  }
  template <int Code, std::int64_t Count>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_EXACT_MAXPOOLS]: ExactMaxPools<N>: the number of max-pooling "
                  "layers is not N");
    static constexpr bool value = true;
  };
};

/// No conv or pooling with a stride above 1 (downsample with dilation only).
struct NoStride : rule_base<NoStride> {
  template <network Net>
  static constexpr verdict measure() {
    return {strided_count<Net> == 0 ? 0 : 1, strided_count<Net>};
  }
  template <int Code, std::int64_t Count>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_NO_STRIDE]: NoStride: a conv or pooling layer has a stride above 1");
    static constexpr bool value = true;
  };
};

/// No pooling layer with a stride above 1 (downsampling only by convs).
struct NoStridedPool : rule_base<NoStridedPool> {
  template <network Net>
  static constexpr verdict measure() {
    const int pools = strided_count<Net> - strided_conv_count<Net>;
    return {pools == 0 ? 0 : 1, pools};
  }
  template <int Code, std::int64_t Count>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_STRIDED_POOL]: NoStridedPool: a pooling layer downsamples (stride above 1)");
    static constexpr bool value = true;
  };
};

/// At most N strided convs, each with a 3x3 kernel (S7-late's downsampling).
template <int N>
struct MaxStridedConvs : rule_base<MaxStridedConvs<N>> {
  template <network Net>
  static constexpr verdict measure() {
    for (const auto& r : Net::plan.rows)
      if (r.is_conv() && (r.f.g.sh > 1 || r.f.g.sw > 1) && (r.f.g.kh != 3 || r.f.g.kw != 3))
        return {2, r.number};
    return {strided_conv_count<Net> <= N ? 0 : 1, strided_conv_count<Net>};
  }
  template <int Code, std::int64_t Value>
  struct verify {
    static_assert(Code != 1,
                  "staticnet rule [R_STRIDED_CONVS]: MaxStridedConvs<N>: more than N strided convs");
    static_assert(Code != 2,
                  "staticnet rule [R_STRIDED_KERNEL]: MaxStridedConvs<N>: a strided conv is not 3x3 "
                  "(its layer number is the second argument of verify<>)");
    static constexpr bool value = true;
  };
};

/// Global average pooling mapped straight to `Classes` outputs: the network
/// has a global pooling layer (GlobalAvgPool / AdaptiveAvgPool2d<1>, or an
/// AvgPool2d / MaxPool2d whose one window covers the whole map), no Linear
/// after the last one, at most MaxConvsAfter convs after it (all 1x1), and
/// its output has `Classes` elements.
template <int Classes, int MaxConvsAfter = 1>
struct GapToClasses : rule_base<GapToClasses<Classes, MaxConvsAfter>> {
  template <network Net>
  static constexpr verdict measure() {
    const auto& rows = Net::plan.rows;
    int gap = -1;
    for (int i = 0; i < static_cast<int>(rows.size()); ++i)
      if (rows[i].f.global_pool) gap = i;
    if (gap < 0) return {1, 0};
    int convs = 0;
    for (int i = gap + 1; i < static_cast<int>(rows.size()); ++i) {
      if (rows[i].desc.kind == op_kind::linear) return {2, rows[i].number};
      if (rows[i].desc.kind == op_kind::conv) {
        ++convs;
        if (!rows[i].f.pointwise) return {3, rows[i].number};
      }
    }
    if (convs > MaxConvsAfter) return {4, convs};
    if (Net::plan.output.numel() != Classes) return {5, Net::plan.output.numel()};
    return {0, convs};
  }
  template <int Code, std::int64_t Value>
  struct verify {
    static_assert(Code != 1,
                  "staticnet rule [R_GAP_MISSING]: GapToClasses: the network has no global pooling "
                  "(GlobalAvgPool, or a pool whose window covers the whole map)");
    static_assert(Code != 2,
                  "staticnet rule [R_GAP_LINEAR]: GapToClasses: a Linear (fully connected) layer comes "
                  "after the global average pooling");
    static_assert(Code != 3,
                  "staticnet rule [R_GAP_CONV]: GapToClasses: a conv after the global average pooling "
                  "is not 1x1");
    static_assert(Code != 4,
                  "staticnet rule [R_GAP_CONVS]: GapToClasses: more convs after the global average "
                  "pooling than allowed");
    static_assert(Code != 5,
                  "staticnet rule [R_CLASSES]: GapToClasses: the output does not have one element per "
                  "class");
    static constexpr bool value = true;
  };
};

namespace detail {
/// "C7" -> 7; anything else -> 0.
constexpr int c_block_index(std::string_view n) noexcept {
  if (n.size() < 2 || n[0] != 'C') return 0;
  int v = 0;
  for (std::size_t i = 1; i < n.size(); ++i) {
    if (n[i] < '0' || n[i] > '9') return 0;
    v = v * 10 + (n[i] - '0');
  }
  return v;
}
}  // namespace detail

/// Top-level blocks named C1, C2, ..., C<Blocks> in this order (an output
/// block such as "O" may follow), each with exactly ConvLayers conv layers
/// when ConvLayers > 0 (a depthwise-separable pair counts as one conv layer).
template <int Blocks, int ConvLayers = 0>
struct ConvBlocks : rule_base<ConvBlocks<Blocks, ConvLayers>> {
  template <network Net>
  static constexpr verdict measure() {
    const auto& pl = Net::plan;
    int expected = 1;
    for (int b = 0; b < pl.n_blocks; ++b) {
      if (pl.blocks[b].parent != -1) continue;
      const int idx = detail::c_block_index(pl.blocks[b].name.view());
      if (idx == 0) continue;
      if (idx != expected || idx > Blocks) return {idx > Blocks ? 3 : 1, idx > Blocks ? idx : expected};
      if (ConvLayers > 0 && pl.blocks[b].conv_layers != ConvLayers)
        return {2, idx * 1000 + pl.blocks[b].conv_layers};
      ++expected;
    }
    if (expected != Blocks + 1) return {1, expected};
    return {0, Blocks};
  }
  template <int Code, std::int64_t Value>
  struct verify {
    static_assert(Code != 1,
                  "staticnet rule [R_BLOCKS_ORDER]: ConvBlocks: blocks C1..CN are missing or out of "
                  "order (the first missing index is the second argument of verify<>)");
    static_assert(Code != 2,
                  "staticnet rule [R_BLOCK_CONVS]: ConvBlocks: a block does not have the required "
                  "number of conv layers (second argument of verify<>: block*1000 + conv layers)");
    static_assert(Code != 3, "staticnet rule [R_BLOCKS_EXTRA]: ConvBlocks: more C blocks than allowed");
    static constexpr bool value = true;
  };
};

/// Every top-level C block holds parallel branches (an Add or a Concat).
struct BranchesInEveryBlock : rule_base<BranchesInEveryBlock> {
  template <network Net>
  static constexpr verdict measure() {
    const auto& pl = Net::plan;
    int c_blocks = 0;
    for (int b = 0; b < pl.n_blocks; ++b) {
      if (pl.blocks[b].parent != -1 || detail::c_block_index(pl.blocks[b].name.view()) == 0) continue;
      ++c_blocks;
      if (pl.blocks[b].branch_groups == 0) return {1, detail::c_block_index(pl.blocks[b].name.view())};
    }
    return {c_blocks > 0 ? 0 : 2, c_blocks};
  }
  template <int Code, std::int64_t Block>
  struct verify {
    static_assert(Code != 1,
                  "staticnet rule [R_BLOCK_BRANCHES]: BranchesInEveryBlock: a C block has no parallel "
                  "branches (its index is the second argument of verify<>)");
    static_assert(Code != 2,
                  "staticnet rule [R_NO_BLOCKS]: BranchesInEveryBlock: the network has no top-level blocks "
                  "named C1, C2, ...");
    static constexpr bool value = true;
  };
};

/// Every MaxPool2d (global ones excepted) is directly followed by a 1x1 conv
/// down to `Channels` channels.
template <int Channels>
struct TransitionsTo : rule_base<TransitionsTo<Channels>> {
  template <network Net>
  static constexpr verdict measure() {
    const auto& rows = Net::plan.rows;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].desc.kind != op_kind::maxpool || rows[i].f.global_pool) continue;
      std::size_t j = i + 1;
      while (j < rows.size() && !rows[j].is_layer()) ++j;
      if (j == rows.size() || !rows[j].is_conv() || !rows[j].f.pointwise || rows[j].out.c != Channels)
        return {1, rows[i].number};
    }
    return {0, 0};
  }
  template <int Code, std::int64_t Layer>
  struct verify {
    static_assert(Code == 0,
                  "staticnet rule [R_TRANSITION]: TransitionsTo<C>: a max pool is not directly followed "
                  "by a 1x1 conv to C channels (its layer number is the second argument of verify<>)");
    static constexpr bool value = true;
  };
};

/// Several rules as one reusable rule.
template <class... Rules>
struct all {
  template <network Net>
  static constexpr bool holds() {
    return (Rules::template holds<Net>() && ...);
  }
  template <network Net>
  static constexpr bool check() {
    return ::staticnet::check<Net, all>;
  }
  /// How check<> sees it: the verdicts of its rules, nested alls flattened.
  static constexpr std::size_t leaves = (std::size_t{0} + ... + Rules::leaves);
  template <network Net>
  static constexpr verdict_list<leaves> verdicts() {
    verdict_list<leaves> out{};
    std::size_t at = 0;
    auto put = [&](const auto& part) {
      for (std::size_t i = 0; i < sizeof(part.code) / sizeof(part.code[0]); ++i, ++at)
        out.code[at] = part.code[i], out.value[at] = part.value[i];
    };
    (put(Rules::template verdicts<Net>()), ...);
    return out;
  }
  /// Where rule R's verdicts start (a rule listed twice has the same verdicts twice).
  template <class R>
  static constexpr std::size_t offset_of() noexcept {
    constexpr bool same[] = {std::is_same_v<R, Rules>..., false};
    constexpr std::size_t count[] = {Rules::leaves..., 0};
    std::size_t off = 0;
    for (std::size_t i = 0; i < sizeof...(Rules) && !same[i]; ++i) off += count[i];
    return off;
  }
  /// Completes each rule's verify<Code, Value>: the one note line between a
  /// broken rule and the check<> that asked for it.
  template <verdict_list<leaves> V>
  struct checked
      : std::bool_constant<(
            Rules::template checked<V.template part<offset_of<Rules>(), Rules::leaves>()>::value && ...)> {};
};

}  // namespace rules
}  // namespace staticnet
