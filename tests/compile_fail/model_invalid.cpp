// A CPU model of an invalid network fails with the network's error.
// expect: E_GROUPS_IN
// expect: invalid_layer<1, staticnet::Conv2d<
#include <staticnet/core.hpp>
#include <staticnet/cpu/model.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4, .groups = 2}>, sn::Flatten>;
void make() { sn::cpu::Model<Net, 4> model; }
