// staticnet/facts.hpp: compile-time facts of a whole network.
//   static_assert(param_count<S9> == 198'757);
//   static_assert(receptive_field<S9> == 33);
// Each fact has the type given for a valid network; for an invalid one its
// type is void (detail::fact_t): the network's error is reported where the
// fact is used, and the fact yields no partial figure to be mistaken for one.
#pragma once
#include <cstdint>

#include "network.hpp"
#include "core/plan.hpp"

namespace staticnet {

/// Trainable parameters, counted as PyTorch does.
template <network Net>
inline constexpr detail::fact_t<Net::report::value, std::int64_t> param_count = Net::plan.params;
/// Non-trainable buffers (BatchNorm running mean and variance).
template <network Net>
inline constexpr detail::fact_t<Net::report::value, std::int64_t> buffer_count = Net::plan.buffers;
/// Forward multiply-accumulates per sample: conv and linear weights x output positions.
template <network Net>
inline constexpr detail::fact_t<Net::report::value, std::int64_t> macs = Net::plan.macs;
/// torchinfo's "Total mult-adds" for batch 1: conv parameters (bias included)
/// x output positions, plus the parameters of every other layer.
template <network Net>
inline constexpr detail::fact_t<Net::report::value, std::int64_t> mult_adds = Net::plan.mult_adds;
/// Number of layers (markers of blocks and branches excluded).
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> layer_count = Net::plan.n_layers;
template <network Net>
inline constexpr detail::fact_t<Net::report::value, shape> output_shape = Net::plan.output;
template <network Net>
inline constexpr detail::fact_t<Net::report::value, shape> input_shape = Net::plan.input;

/// Receptive field of one output unit before any global pooling, by the
/// standard formula rf += dilation*(k-1)*jump; jump *= stride (branches: the
/// maximum). Global pooling (GlobalAvgPool, a full-window pool) adds nothing,
/// nor does ZeroPad2d. For non-square kernels, the smaller of the two axes.
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> receptive_field =
    Net::plan.rf_h < Net::plan.rf_w ? Net::plan.rf_h : Net::plan.rf_w;
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> receptive_field_h = Net::plan.rf_h;
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> receptive_field_w = Net::plan.rf_w;
/// Product of all strides (along H; see jump_w for W).
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> jump = Net::plan.jump_h;
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> jump_w = Net::plan.jump_w;

namespace detail {
/// Checks a layer number; in the note, `layer_number<N, layers in the network>`.
template <int Number, int Layers>
struct layer_number {
  static_assert(Number >= 1 && Number <= Layers,
                "staticnet [E_LAYER_NUMBER]: no layer with that number (the note shows "
                "layer_number<N, number of layers>)");
  static constexpr bool value = Number >= 1 && Number <= Layers;
};
}  // namespace detail

/// The row of layer number `Number` (1-based, as in the summary).
template <network Net, int Number>
inline constexpr detail::fact_t<Net::report::value &&
                                    detail::layer_number<Number, Net::report::value ? Net::plan.n_layers
                                                                                    : Number>::value,
                                plan_row>
    layer = [] {
      for (const auto& r : Net::plan.rows)
        if (r.number == Number) return r;
      return plan_row{};
    }();

namespace detail {
template <class Pred, std::size_t N>
constexpr int count_rows(const plan<N>& pl, Pred pred) noexcept {
  int n = 0;
  for (const auto& r : pl.rows)
    if (r.is_layer() && pred(r)) ++n;
  return n;
}
}  // namespace detail

/// Counts of layer kinds used by the rules.
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> conv_count =
    detail::count_rows(Net::plan, [](const plan_row& r) { return r.is_conv(); });
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> dilated_conv_count =
    detail::count_rows(Net::plan, [](const plan_row& r) { return r.is_conv() && r.f.dilated; });
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> depthwise_conv_count =
    detail::count_rows(Net::plan, [](const plan_row& r) { return r.is_conv() && r.f.depthwise; });
/// Depthwise convs followed by a 1x1 conv (BatchNorm / ReLU / Dropout may sit between).
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> separable_conv_count =
    detail::count_rows(Net::plan, [](const plan_row& r) { return r.separable; });
/// MaxPool2d layers, global ones (one window over the whole map) excepted.
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> maxpool_count = detail::count_rows(
    Net::plan, [](const plan_row& r) { return r.desc.kind == op_kind::maxpool && !r.f.global_pool; });
/// Global pooling layers: GlobalAvgPool (AdaptiveAvgPool2d<1>) and pools whose
/// one window covers the whole map (AvgPool2d / MaxPool2d of kernel k on a k x k map).
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> global_pool_count =
    detail::count_rows(Net::plan, [](const plan_row& r) { return r.f.global_pool; });
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> linear_count =
    detail::count_rows(Net::plan, [](const plan_row& r) { return r.desc.kind == op_kind::linear; });
/// Convs and poolings with a stride above 1 on either axis (global pooling excepted).
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> strided_count = detail::count_rows(
    Net::plan, [](const plan_row& r) { return r.f.spatial && (r.f.g.sh > 1 || r.f.g.sw > 1); });
template <network Net>
inline constexpr detail::fact_t<Net::report::value, int> strided_conv_count = detail::count_rows(
    Net::plan, [](const plan_row& r) { return r.is_conv() && (r.f.g.sh > 1 || r.f.g.sw > 1); });

/// Memory estimates in MB as the users' tools print them.
struct memory_estimate {
  double input_mb = 0;
  double forward_backward_mb = 0;
  double params_mb = 0;
  double total_mb = 0;
  std::int64_t activation_elements = 0;  ///< the summed output elements the estimate is based on
  int rows = 0;                          ///< rows the tool would print
};

/// torchsummary: one row per module call of the network's PyTorch form
/// (plan_row::torch_row: Module rows included); 2 x outputs x 4 B / 2^20.
template <std::size_t N>
constexpr memory_estimate torchsummary_memory(const plan<N>& pl) noexcept {
  memory_estimate m;
  for (const auto& r : pl.rows)
    if (r.torch_row) m.activation_elements += r.out.numel(), ++m.rows;
  constexpr double mib = 1024.0 * 1024.0;
  m.input_mb = static_cast<double>(pl.input.numel()) * 4.0 / mib;
  m.forward_backward_mb = 2.0 * static_cast<double>(m.activation_elements) * 4.0 / mib;
  m.params_mb = static_cast<double>(pl.params) * 4.0 / mib;
  m.total_mb = m.params_mb + m.forward_backward_mb + m.input_mb;  // torchsummary's order
  return m;
}

/// torchinfo: only layers holding parameters count; 2 x outputs x 4 B / 10^6.
template <std::size_t N>
constexpr memory_estimate torchinfo_memory(const plan<N>& pl) noexcept {
  memory_estimate m;
  for (const auto& r : pl.rows)
    if (r.is_layer() && r.f.params > 0) m.activation_elements += r.out.numel(), ++m.rows;
  m.input_mb = static_cast<double>(pl.input.numel()) * 4.0 / 1e6;
  m.forward_backward_mb = 2.0 * static_cast<double>(m.activation_elements) * 4.0 / 1e6;
  m.params_mb = static_cast<double>(pl.params) * 4.0 / 1e6;
  m.total_mb = static_cast<double>(4 * pl.input.numel() + 8 * m.activation_elements + 4 * pl.params) / 1e6;  // torchinfo's: bytes, then MB
  return m;
}

template <network Net>
inline constexpr detail::fact_t<Net::report::value, memory_estimate> torchsummary_estimate =
    torchsummary_memory(Net::plan);
template <network Net>
inline constexpr detail::fact_t<Net::report::value, memory_estimate> torchinfo_estimate =
    torchinfo_memory(Net::plan);

}  // namespace staticnet
