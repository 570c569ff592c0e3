// A Network with an input but no layer.
// expect: E_EMPTY_NETWORK
// expect: a Network needs at least one layer
// expect: invalid_layer<0, staticnet::Input<3, 8, 8>, staticnet::error::empty_network
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>>;
constexpr auto n = sn::param_count<Net>;
