// The assignment networks as types. S9 and S7-dilated are the reference
// solutions of ../shared/spec/assignments.md, layer by layer; the others are
// staticnet's own designs for their exercises.
#pragma once
#include <staticnet/staticnet.hpp>

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
using S9Reference = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", SepUnit<32>, SepUnit<32>, SepUnit<32, 2>>,
    sn::Block<"C2", SepUnit<64>, SepUnit<64>, SepUnit<64, 2>>,
    sn::Block<"C3", SepUnit<128>, SepUnit<128>, SepUnit<128, 2>>,
    sn::Block<"C4", SepUnit<224>, SepUnit<224>, SepUnit<224, 2>>,
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

}  // namespace assignments
