// S7-groups: two parallel branches per block (one of depthwise-separable
// convs, one of dilated convs), blocks separated by max pooling + 1x1 conv,
// output GAP + two 1x1 convs; < 1M parameters; >= 1 depthwise and >= 1
// dilated conv; accuracy as high as possible (a known solution: ~83%).
#include "networks.hpp"
#include "program.hpp"

namespace sn = staticnet;
using assignments::S7GroupsNet;

static_assert(sn::check<S7GroupsNet, sn::exercises::S7Groups>);
static_assert(sn::param_count<S7GroupsNet> == 851'210);
static_assert(sn::mult_adds<S7GroupsNet> == 104'291'978);  // torchinfo: 104.29 M
static_assert(sn::receptive_field<S7GroupsNet> == 62);
static_assert(sn::maxpool_count<S7GroupsNet> == 2);
static_assert(sn::separable_conv_count<S7GroupsNet> == 6);
static_assert(sn::dilated_conv_count<S7GroupsNet> == 6);

int main(int argc, char** argv) {
  return assignments::run_programs(argc, argv, assignments::augmentation::standard,
                                   assignments::entry<S7GroupsNet>{"s7_groups", "S7-groups: staticnet's design"});
}
