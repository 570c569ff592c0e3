// The S9 reference solution breaks exactly one S9 rule: its receptive field is 33, not above 44.
// expect: R_RECEPTIVE_FIELD
// expect: the receptive field is not above N
// expect: ReceptiveFieldAbove<44>::verify<1, 33>
// max-bytes: 2048
#include "networks.hpp"
static_assert(staticnet::check<assignments::S9Reference, staticnet::exercises::S9>);
