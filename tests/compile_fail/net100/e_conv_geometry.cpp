// A Conv2d with stride 0 as layer 49.
// expect: E_CONV_GEOMETRY
// expect: invalid_layer<49, staticnet::Conv2d<
// expect: staticnet::error::conv_geometry, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.out = 8, .stride = 0}>>;
constexpr auto n = sn::param_count<Net>;
