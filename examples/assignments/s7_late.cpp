// S7-late: C1 C2 C3 C4 O, no max pooling (downsample with at most three 3x3
// stride-2 convs); GAP mapped straight to the 10 classes, no fully connected
// layer; < 100k parameters; >= 2 depthwise-separable convs and >= 1 dilated
// conv; receptive field > 52; >= 87% on CIFAR-10.
#include "networks.hpp"
#include "program.hpp"

namespace sn = staticnet;
using assignments::S7LateNet;

static_assert(sn::check<S7LateNet, sn::exercises::S7Late>);
static_assert(sn::param_count<S7LateNet> == 97'754);
static_assert(sn::mult_adds<S7LateNet> == 16'601'450);  // torchinfo: 16.60 M
static_assert(sn::receptive_field<S7LateNet> == 87);
static_assert(sn::jump<S7LateNet> == 8);  // three stride-2 convs: 32 -> 4
static_assert(sn::strided_conv_count<S7LateNet> == 3);
static_assert(sn::separable_conv_count<S7LateNet> == 8);
static_assert(sn::dilated_conv_count<S7LateNet> == 2);

int main(int argc, char** argv) {
  return assignments::run_programs(argc, argv, assignments::augmentation::s7,
                                   assignments::entry<S7LateNet>{"s7_late", "S7-late: staticnet's design"});
}
