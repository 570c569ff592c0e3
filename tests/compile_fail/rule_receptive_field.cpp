// ReceptiveFieldAbove<5> on two 3x3 convs (receptive field 5).
// expect: R_RECEPTIVE_FIELD
// expect: the receptive field is not above N
// expect: verify<1, 5>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::Conv2d<sn::conv{.out = 4}>>;
static_assert(sn::check<Net, sn::rules::ReceptiveFieldAbove<5>>);
