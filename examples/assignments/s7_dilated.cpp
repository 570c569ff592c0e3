// S7-dilated: C1 C2 C3 O, no max pooling and no stride 2 (dilated kernels
// only); 4 depthwise-separable convs and 1 dilated conv; >= 87% on CIFAR-10.
#include "networks.hpp"
#include "program.hpp"

namespace sn = staticnet;
using assignments::S7DilatedReference;

static_assert(sn::param_count<S7DilatedReference> == 68'992);
static_assert(sn::separable_conv_count<S7DilatedReference> == 4);
static_assert(sn::dilated_conv_count<S7DilatedReference> == 1);
// The exercise claims RF 52 (45 in its author's table); the standard formula gives 21.
static_assert(sn::receptive_field<S7DilatedReference> == 21);
static_assert(sn::check<S7DilatedReference, sn::exercises::S7Dilated>);

int main(int argc, char** argv) {
  return assignments::run_programs(argc, argv, assignments::augmentation::s7,
                                   assignments::entry<S7DilatedReference>{"s7_dilated", "S7-dilated reference solution"});
}
