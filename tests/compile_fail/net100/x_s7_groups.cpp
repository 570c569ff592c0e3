// exercises::S7Groups on the 100-layer network ending in GAP and a 3x3 conv: only GapToClasses breaks.
// expect: R_GAP_CONV
// expect: GapToClasses<10, 2>::verify<3, 98>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Sequential<>, sn::Sequential<sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .padding = 1}>>>;
static_assert(sn::check<Net, sn::exercises::S7Groups>);
