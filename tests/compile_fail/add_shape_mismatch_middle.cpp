// An Add of three branches whose second one (layer 3, 8 channels) disagrees with the first:
// found where the second branch ends, so the position is its last layer, 3.
// expect: E_ADD_SHAPE
// expect: Add: the branches produce different shapes
// expect: invalid_layer<3,
// expect: staticnet::Add<staticnet::branch<1>::gives<4, 8, 8>, staticnet::branch<2>::gives<8, 8, 8>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4, .padding = 1}>,
                        sn::Add<sn::Conv2d<sn::conv{.out = 4, .padding = 1}>, sn::Conv2d<sn::conv{.out = 8, .padding = 1}>,
                                sn::Sequential<>>>;
constexpr auto n = sn::param_count<Net>;
