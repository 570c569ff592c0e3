// GapToClasses<100> on the 100-layer network (10 outputs).
// expect: R_CLASSES
// expect: GapToClasses<100
// expect: ::verify<5, 10>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::GapToClasses<100>>);
