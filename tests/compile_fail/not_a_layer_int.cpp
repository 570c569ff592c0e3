// An int used as a layer.
// expect: E_NOT_A_LAYER
// expect: this type is not a layer
// expect: invalid_layer<2, staticnet::detail::not_a_layer<int>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::ReLU, int>;
constexpr auto n = sn::param_count<Net>;
