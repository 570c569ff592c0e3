// The assignment networks as types. S9Reference and S7DilatedReference are the
// reference solutions of ../shared/spec/assignments.md, layer by layer; S9Plus,
// S7LateNet, S7GroupsNet and S7TransitionNet are staticnet's own designs for
// their exercises. Every figure in a comment here is proven by a static_assert
// in the exercise's program (s9.cpp, s7_late.cpp, ...).
#pragma once
#include <staticnet/core.hpp>

namespace assignments {
namespace sn = staticnet;

// ---------------------------------------------------------------- S9 ----
// A unit: depthwise 3x3 (no bias; dilation Dil with padding Dil keeps 32x32),
// pointwise 1x1 with bias, BatchNorm2d, ReLU.
template <int Out, int Dil = 1>
using SepUnit = sn::Sequential<
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = Dil, .dilation = Dil, .bias = false}>,
    sn::Conv2d<sn::conv{.out = Out, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>;

/// S9 reference solution: 198,757 parameters; receptive field 33.
/// (It breaks the exercise's RF > 44 rule; see S9Plus below.)
using S9Reference = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", SepUnit<32>, SepUnit<32>, SepUnit<32, 2>>,
    sn::Block<"C2", SepUnit<64>, SepUnit<64>, SepUnit<64, 2>>,
    sn::Block<"C3", SepUnit<128>, SepUnit<128>, SepUnit<128, 2>>,
    sn::Block<"C4", SepUnit<224>, SepUnit<224>, SepUnit<224, 2>>,
    sn::Block<"O", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
    sn::Flatten, sn::LogSoftmax>;

/// S9Plus: the reference with the third unit of every block dilated 4 instead
/// of 2 (padding 4 keeps 32x32). Each block then adds 2 + 2 + 8 = 12 to the
/// receptive field: 1 + 4 * 12 = 49 > 44, at the same 198,757 parameters and
/// 198.48 M mult-adds. It passes all of exercises::S9.
using S9Plus = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", SepUnit<32>, SepUnit<32>, SepUnit<32, 4>>,
    sn::Block<"C2", SepUnit<64>, SepUnit<64>, SepUnit<64, 4>>,
    sn::Block<"C3", SepUnit<128>, SepUnit<128>, SepUnit<128, 4>>,
    sn::Block<"C4", SepUnit<224>, SepUnit<224>, SepUnit<224, 4>>,
    sn::Block<"O", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
    sn::Flatten, sn::LogSoftmax>;

// ------------------------------------------------------- S7-dilated ----
template <int Out>
using ConvReluBn = sn::Sequential<sn::Conv2d<sn::conv{.out = Out, .kernel = 3, .padding = 1, .bias = false}>,
                                  sn::ReLU, sn::BatchNorm2d>;
using Depthwise3 = sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>;
template <int Out>
using Pointwise = sn::Conv2d<sn::conv{.out = Out, .kernel = 1, .bias = false}>;
template <int Out>
using PointwiseReluBn = sn::Sequential<Pointwise<Out>, sn::ReLU, sn::BatchNorm2d>;

/// S7-dilated reference solution: 68,992 parameters, no bias anywhere, RF 21.
using S7DilatedReference = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", ConvReluBn<32>, Depthwise3, PointwiseReluBn<64>, Pointwise<32>>,
    sn::Block<"C2", ConvReluBn<32>, Depthwise3, PointwiseReluBn<64>,
              sn::Conv2d<sn::conv{.out = 64, .kernel = 3, .dilation = 4, .bias = false}>, sn::ReLU,
              sn::BatchNorm2d>,
    sn::Block<"C3", Pointwise<32>, Depthwise3, PointwiseReluBn<64>, Depthwise3, PointwiseReluBn<128>>,
    sn::Block<"O", sn::GlobalAvgPool, Pointwise<10>>,
    sn::Flatten, sn::LogSoftmax>;

// ------------------------------------------- building blocks (S7-*) ----
// conv -> BatchNorm2d -> ReLU, no conv bias (BatchNorm supplies the shift).

/// 3x3 conv; Dil > 1 dilates it (padding Dil keeps the size), Stride 2 halves it.
template <int Out, int Dil = 1, int Stride = 1>
using Conv3BnRelu = sn::Sequential<
    sn::Conv2d<sn::conv{.out = Out, .kernel = 3, .stride = Stride, .padding = Dil, .dilation = Dil,
                        .bias = false}>,
    sn::BatchNorm2d, sn::ReLU>;

/// Depthwise-separable 3x3 conv (depthwise 3x3, then 1x1 to Out), same options.
template <int Out, int Dil = 1, int Stride = 1>
using Sep3BnRelu = sn::Sequential<
    sn::SeparableConv2d<sn::sep{.out = Out, .stride = Stride, .padding = Dil, .dilation = Dil,
                                .bias = false}>,
    sn::BatchNorm2d, sn::ReLU>;

/// 1x1 conv -> BatchNorm2d -> ReLU.
template <int Out>
using Conv1BnRelu = sn::Sequential<Pointwise<Out>, sn::BatchNorm2d, sn::ReLU>;

// ---------------------------------------------------------- S7-late ----
/// S7-late: C1 C2 C3 C4 O, no max pooling; the last conv of C1, C2 and C3 is
/// a 3x3 stride-2 conv (32 -> 16 -> 8 -> 4). Plain 3x3 convs where channels are
/// few (C1), depthwise-separable convs where they are many (8 of them), one
/// dilated separable conv in C2 and in C3; GAP then one 1x1 conv to 10.
/// 97,754 parameters; 16.60 M mult-adds; receptive field 87
/// (C1 3, 5, 7 | C2 11, 19, 23 | C3 31, 47, 55 | C4 71, 87).
using S7LateNet = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", Conv3BnRelu<32>, Conv3BnRelu<32>, Conv3BnRelu<32, 1, 2>>,
    sn::Block<"C2", Sep3BnRelu<64>, Sep3BnRelu<64, 2>, Sep3BnRelu<64, 1, 2>>,
    sn::Block<"C3", Sep3BnRelu<96>, Sep3BnRelu<96, 2>, Sep3BnRelu<96, 1, 2>>,
    sn::Block<"C4", Sep3BnRelu<144>, Sep3BnRelu<144>>,
    sn::Block<"O", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
    sn::Flatten, sn::LogSoftmax>;

// --------------------------------------------------------- S7-groups ----
/// One S7-groups block: a depthwise-separable branch and a dilated branch,
/// Out channels each, concatenated (2 * Out channels).
template <int Out>
using TwoBranches = sn::Concat<sn::Sequential<Sep3BnRelu<Out>, Sep3BnRelu<Out>>,
                               sn::Sequential<Conv3BnRelu<Out, 2>, Conv3BnRelu<Out, 2>>>;

/// Max pooling + 1x1 conv between the blocks.
template <int Out>
using PoolTransition = sn::Sequential<sn::MaxPool2d<>, Conv1BnRelu<Out>>;

/// S7-groups: a 3x3 stem, then blocks C1 (32x32), C2 (16x16), C3 (8x8) of two
/// concatenated branches each (2 separable convs | 2 dilation-2 convs),
/// separated by transitions T1, T2 (max pool + 1x1 conv); O: GAP, 1x1 conv
/// 384 -> 64, ReLU, 1x1 conv 64 -> 10.
/// 851,210 parameters; 104.29 M mult-adds; receptive field 62 (the dilated
/// branches set it: C1 11 | T1 12 | C2 28 | T2 30 | C3 62).
using S7GroupsNet = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", Conv3BnRelu<32>, TwoBranches<32>>,
    sn::Block<"T1", PoolTransition<64>>,
    sn::Block<"C2", TwoBranches<96>>,
    sn::Block<"T2", PoolTransition<128>>,
    sn::Block<"C3", TwoBranches<192>>,
    sn::Block<"O", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 64, .kernel = 1}>, sn::ReLU,
              sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
    sn::Flatten, sn::LogSoftmax>;

// ----------------------------------------------------- S7-transition ----
/// A transition block: max pooling directly followed by a 1x1 conv down to 32 channels.
using Transition32 = sn::Sequential<sn::MaxPool2d<>, Conv1BnRelu<32>>;

/// S7-transition: conv blocks C1 (32x32), C2 (16x16), C3 (8x8), C4 (4x4)
/// widening to 64-256 channels, separated by transition blocks T1, T2, T3
/// (the network's only 3 max pools, each followed by a 1x1 conv to 32);
/// one dilated conv and two separable convs; GAP then a 1x1 conv to 10.
/// 523,690 parameters; 66.02 M mult-adds; receptive field 84
/// (C1 5 | T1 6 | C2 14 | T2 16 | C3 32, 40, 48 | T3 52 | C4 68, 84).
using S7TransitionNet = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", Conv3BnRelu<32>, Conv3BnRelu<64>>,
    sn::Block<"T1", Transition32>,
    sn::Block<"C2", Conv3BnRelu<64>, Conv3BnRelu<128>>,
    sn::Block<"T2", Transition32>,
    sn::Block<"C3", Conv3BnRelu<64, 2>, Sep3BnRelu<128>, Conv3BnRelu<256>>,
    sn::Block<"T3", Transition32>,
    sn::Block<"C4", Conv3BnRelu<128>, Sep3BnRelu<256>>,
    sn::Block<"O", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
    sn::Flatten, sn::LogSoftmax>;

}  // namespace assignments
