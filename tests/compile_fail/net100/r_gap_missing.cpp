// GapToClasses<10> on the 100-layer network ending in Flatten + Linear.
// expect: R_GAP_MISSING
// expect: GapToClasses<10
// expect: ::verify<1, 0>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Sequential<>, sn::Sequential<sn::Flatten, sn::Linear<sn::linear{.out = 10}>>>;
static_assert(sn::check<Net, sn::rules::GapToClasses<10>>);
