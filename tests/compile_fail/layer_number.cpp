// staticnet::layer of a number the network (two layers) does not have.
// expect: E_LAYER_NUMBER
// expect: no layer with that number
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::ReLU>;
constexpr auto row = sn::layer<Net, 99>;
