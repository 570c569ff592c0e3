// After a construction error (E_GROUPS_IN at layer 49), the facts, rules and summary of the
// network yield nothing a user could mistake for a real figure: the user's own assertions
// below do not fail a second time with the partial counts of the invalid network (42013
// parameters, receptive field 81, 32 channels at layer 50), and no rule is judged on them.
// expect: E_GROUPS_IN
// expect: invalid_layer<49,
// reject: 42013
// reject: the comparison reduces to
// reject: requirement 'sn::
// reject: R_PARAMS_BELOW
// reject: staticnet::Network<
// max-bytes: 4096
#include <iostream>
#include <staticnet/summary.hpp>

#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.out = 64, .groups = 3}>>;
static_assert(sn::param_count<Net> == 1);
static_assert(sn::receptive_field<Net> == 2);
static_assert(sn::layer<Net, 50>.out.c == 3);
static_assert(sn::satisfies<Net, sn::rules::ParamsBelow<10>>);
static_assert(sn::check<Net, sn::rules::ParamsBelow<10>>);
void print() { sn::print_summary<Net>(std::cout); }
