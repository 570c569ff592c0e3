// The 100-layer network on an input with zero channels.
// expect: E_INPUT
// expect: invalid_layer<0, staticnet::Input<0, 32, 32>, staticnet::error::input_nonpositive
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Sequential<>, net100::Head, sn::Input<0, 32, 32>>;
constexpr auto n = sn::param_count<Net>;
