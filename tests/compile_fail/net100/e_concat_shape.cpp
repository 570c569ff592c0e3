// A Concat of a padded and an unpadded 3x3 conv (layers 49, 50): 32 x 32 and 30 x 30.
// expect: E_CONCAT_SHAPE
// expect: invalid_layer<50, staticnet::Concat<staticnet::branch<1>::gives<8, 32, 32>, staticnet::branch<2>::gives<8, 30, 30>
// expect: staticnet::error::concat_spatial_mismatch, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Concat<sn::Conv2d<sn::conv{.out = 8, .padding = 1}>, sn::Conv2d<sn::conv{.out = 8}>>>;
constexpr auto n = sn::param_count<Net>;
