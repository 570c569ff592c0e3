// S9: C1 C2 C3 C4 O, four blocks of three conv layers, O ends in global
// average pooling; < 200k parameters; >= 1 dilated and >= 1
// depthwise-separable conv; receptive field > 44; >= 85% on CIFAR-10.
#include "networks.hpp"
#include "program.hpp"

namespace sn = staticnet;
using assignments::S9Plus;
using assignments::S9Reference;

// The reference solution's figures, proven by the compiler.
static_assert(sn::param_count<S9Reference> == 198'757);
static_assert(sn::mult_adds<S9Reference> == 198'475'594);  // torchinfo: 198.48 M
static_assert(sn::receptive_field<S9Reference> == 33);
// It keeps every rule of the exercise but one: its receptive field is 33, not > 44.
static_assert(sn::satisfies<S9Reference, sn::rules::ConvBlocks<4, 3>, sn::rules::ParamsBelow<200'000>,
                            sn::rules::MinDilatedConvs<1>, sn::rules::MinSeparableConvs<1>,
                            sn::rules::GapToClasses<10>>);
static_assert(!sn::satisfies<S9Reference, sn::rules::ReceptiveFieldAbove<44>>);

// S9Plus: the third unit of every block dilated 4 instead of 2. Same
// parameters and cost; receptive field 1 + 4 * (2 + 2 + 8) = 49; every rule holds.
static_assert(sn::check<S9Plus, sn::exercises::S9>);
static_assert(sn::param_count<S9Plus> == 198'757);
static_assert(sn::mult_adds<S9Plus> == 198'475'594);
static_assert(sn::receptive_field<S9Plus> == 49);
static_assert(sn::separable_conv_count<S9Plus> == 12);
static_assert(sn::dilated_conv_count<S9Plus> == 4);

int main(int argc, char** argv) {
  // Trains the reference solution by default; --network s9_plus trains the variant.
  return assignments::run_programs(
      argc, argv, assignments::augmentation::s9,
      assignments::entry<S9Reference>{"s9", "S9 reference solution (fails RF > 44: RF is 33)"},
      assignments::entry<S9Plus>{"s9_plus", "S9Plus: third unit of each block dilated 4 (passes every S9 rule: RF 49)"});
}
