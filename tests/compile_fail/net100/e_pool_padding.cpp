// A 2x2 AvgPool2d with padding 2 as layer 49.
// expect: E_POOL_PADDING
// expect: invalid_layer<49, staticnet::AvgPool2d<
// expect: staticnet::error::pool_padding_too_large, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::AvgPool2d<sn::pool{.kernel = 2, .padding = 2}>>;
constexpr auto n = sn::param_count<Net>;
