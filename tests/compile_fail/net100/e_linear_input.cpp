// A Linear on the 32 x 32 x 32 map as layer 49.
// expect: E_LINEAR_INPUT
// expect: invalid_layer<49, staticnet::Linear<
// expect: staticnet::error::linear_not_flat, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Linear<sn::linear{.out = 10}>>;
constexpr auto n = sn::param_count<Net>;
