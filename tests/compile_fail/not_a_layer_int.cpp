// An int used as a layer.
// expect: E_NOT_A_LAYER
// expect: this type is not a layer
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::ReLU, int>;
constexpr auto n = sn::param_count<Net>;
