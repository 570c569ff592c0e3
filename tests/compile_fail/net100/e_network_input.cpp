// The 100-layer network whose first argument is a layer, not Input<C, H, W>.
// expect: E_NETWORK_INPUT
// expect: invalid_layer<0, staticnet::ReLU, staticnet::error::network_input
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Sequential<>, net100::Head, sn::ReLU>;
constexpr auto n = sn::param_count<Net>;
