// A Concat of an 8x8 branch and a 6x6 branch (layer 3, unpadded 3x3 conv), merged after layer 3.
// expect: E_CONCAT_SHAPE
// expect: Concat: the branches produce different spatial sizes
// expect: invalid_layer<3,
// expect: staticnet::Concat<staticnet::branch<1>::gives<4, 8, 8>, staticnet::branch<2>::gives<4, 6, 6>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4, .padding = 1}>,
                        sn::Concat<sn::Conv2d<sn::conv{.out = 4, .padding = 1}>, sn::Conv2d<sn::conv{.out = 4}>>>;
constexpr auto n = sn::param_count<Net>;
