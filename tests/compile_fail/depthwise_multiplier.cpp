// A depthwise conv on 4 channels with .out = 6 (not a multiple of 4), layer 2.
// expect: E_DEPTHWISE_OUT
// expect: DepthwiseConv2d: .out must be 0 (same as input) or a multiple of the input channels
// expect: invalid_layer<2,
// expect: staticnet::input<4, 6, 6>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::DepthwiseConv2d<sn::conv{.out = 6}>>;
constexpr auto n = sn::param_count<Net>;
