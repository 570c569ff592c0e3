// A MaxPool2d with kernel 0 as layer 49.
// expect: E_POOL_GEOMETRY
// expect: invalid_layer<49, staticnet::MaxPool2d<
// expect: staticnet::error::pool_geometry, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::MaxPool2d<sn::pool{.kernel = 0}>>;
constexpr auto n = sn::param_count<Net>;
