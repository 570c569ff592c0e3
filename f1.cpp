#include "b1.hpp"
static_assert(sn::check<S9Ref, sn::rules::ReceptiveFieldAbove<44>>);
