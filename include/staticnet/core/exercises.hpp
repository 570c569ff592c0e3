// staticnet/core/exercises.hpp: each CIFAR-10 exercise's whole rule set as one
// named rule (see docs/reference.md for the wording of each exercise).
//   static_assert(check<MyNet, exercises::S7Late>);
#pragma once
#include "../rules.hpp"

namespace staticnet::exercises {

/// S9: C1 C2 C3 C4 O, four blocks of three conv layers each, O ends in GAP;
/// < 200k params; >= 1 dilated and >= 1 depthwise-separable conv; RF > 44.
using S9 = rules::all<rules::ConvBlocks<4, 3>, rules::ParamsBelow<200'000>, rules::MinDilatedConvs<1>,
                      rules::MinSeparableConvs<1>, rules::ReceptiveFieldAbove<44>,
                      rules::GapToClasses<10>>;

/// S7-late: C1 C2 C3 C4 O, no max pooling and no strided pooling (downsample
/// with at most three 3x3 stride-2 convs, or dilation only); GAP straight to 10 classes with no FC;
/// < 100k params; >= 2 depthwise-separable and >= 1 dilated conv; RF > 52.
using S7Late = rules::all<rules::ConvBlocks<4>, rules::NoMaxPool, rules::NoStridedPool, rules::MaxStridedConvs<3>,
                          rules::ParamsBelow<100'000>, rules::MinSeparableConvs<2>,
                          rules::MinDilatedConvs<1>, rules::ReceptiveFieldAbove<52>,
                          rules::GapToClasses<10>>;

/// S7-dilated: C1 C2 C3 O, no max pooling and no stride 2 (dilated kernels
/// only); 4 depthwise-separable convs and 1 dilated conv; GAP to 10 classes.
/// The exercise claims RF 52 for its known solution, whose true RF is 21, so
/// no RF rule is part of it.
using S7Dilated = rules::all<rules::ConvBlocks<3>, rules::NoMaxPool, rules::NoStride,
                             rules::MinSeparableConvs<4>, rules::MinDilatedConvs<1>,
                             rules::ParamsBelow<100'000>, rules::GapToClasses<10>>;

/// S7-groups: blocks of two parallel branches (depthwise-separable and
/// dilated), separated by max pooling + 1x1 conv; output GAP + two 1x1 convs;
/// < 1M params; >= 1 depthwise and >= 1 dilated conv.
using S7Groups = rules::all<rules::ParamsBelow<1'000'000>, rules::BranchesInEveryBlock,
                            rules::MinDepthwiseConvs<1>, rules::MinDilatedConvs<1>,
                            rules::GapToClasses<10, 2>>;

/// S7-transition: exactly 3 max pools, each a transition (max pool + 1x1 conv
/// down to 32 channels); < 1M params; >= 1 depthwise-separable and >= 1 dilated conv.
using S7Transition = rules::all<rules::ParamsBelow<1'000'000>, rules::ExactMaxPools<3>,
                                rules::TransitionsTo<32>, rules::MinSeparableConvs<1>,
                                rules::MinDilatedConvs<1>>;

}  // namespace staticnet::exercises
