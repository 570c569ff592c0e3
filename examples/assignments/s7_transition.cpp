// S7-transition: ConvBlock / TransitionBlock structure with exactly 3 max
// pools, each transition a max pool + 1x1 conv down to 32 channels; < 1M
// parameters; >= 1 depthwise-separable and >= 1 dilated conv; > 80% on CIFAR-10.
#include "networks.hpp"
#include "program.hpp"

namespace sn = staticnet;
using assignments::S7TransitionNet;

static_assert(sn::check<S7TransitionNet, sn::exercises::S7Transition>);
static_assert(sn::param_count<S7TransitionNet> == 523'690);
static_assert(sn::mult_adds<S7TransitionNet> == 66'022'282);  // torchinfo: 66.02 M
static_assert(sn::receptive_field<S7TransitionNet> == 84);
static_assert(sn::maxpool_count<S7TransitionNet> == 3);
static_assert(sn::separable_conv_count<S7TransitionNet> == 2);
static_assert(sn::dilated_conv_count<S7TransitionNet> == 1);
// It also maps GAP straight to the 10 classes with one 1x1 conv.
static_assert(sn::satisfies<S7TransitionNet, sn::rules::GapToClasses<10>>);

int main(int argc, char** argv) {
  return assignments::run_programs(argc, argv, assignments::augmentation::standard,
                                   assignments::entry<S7TransitionNet>{"s7_transition", "S7-transition: staticnet's design"});
}
