// An Add of a 64- and a 128-channel strided 1x1 conv (layers 49, 50) on the 32 x 32 x 32 map.
// expect: E_ADD_SHAPE
// expect: invalid_layer<50, staticnet::Add<staticnet::branch<1>::gives<64, 16, 16>, staticnet::branch<2>::gives<128, 16, 16>
// expect: staticnet::error::add_shape_mismatch, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Add<sn::Conv2d<sn::conv{.out = 64, .kernel = 1, .stride = 2}>, sn::Conv2d<sn::conv{.out = 128, .kernel = 1, .stride = 2}>>>;
constexpr auto n = sn::param_count<Net>;
