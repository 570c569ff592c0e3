// GapToClasses<10>: a Linear (layer 4) follows the global average pooling.
// expect: R_GAP_LINEAR
// expect: a Linear (fully connected) layer comes after the global average pooling
// expect: verify<2, 4>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::GlobalAvgPool, sn::Flatten, sn::Linear<sn::linear{.out = 10}>>;
static_assert(sn::check<Net, sn::rules::GapToClasses<10>>);
