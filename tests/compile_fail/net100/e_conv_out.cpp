// A Conv2d without .out as layer 49 of the 100-layer network.
// expect: E_CONV_OUT
// expect: invalid_layer<49, staticnet::Conv2d<
// expect: staticnet::error::conv_out_missing, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.kernel = 3}>>;
constexpr auto n = sn::param_count<Net>;
