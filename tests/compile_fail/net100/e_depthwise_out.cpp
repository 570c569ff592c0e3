// A DepthwiseConv2d to 48 channels on 32 as layer 49.
// expect: E_DEPTHWISE_OUT
// expect: invalid_layer<49, staticnet::DepthwiseConv2d<
// expect: staticnet::error::depthwise_multiplier, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::DepthwiseConv2d<sn::conv{.out = 48}>>;
constexpr auto n = sn::param_count<Net>;
