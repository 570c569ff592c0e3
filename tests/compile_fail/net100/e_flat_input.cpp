// A BatchNorm2d after a Flatten (layers 49, 50).
// expect: E_FLAT_INPUT
// expect: invalid_layer<50, staticnet::BatchNorm2d, staticnet::error::spatial_on_flat, staticnet::input<32768>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Sequential<sn::Flatten, sn::BatchNorm2d>>;
constexpr auto n = sn::param_count<Net>;
