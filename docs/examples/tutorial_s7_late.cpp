// The program docs/tutorial.md builds.
// A CIFAR-10 network for the S7-late exercise whose every constraint the
// compiler proves; running it prints the model summary and the
// receptive-field table.
//   g++ -std=c++20 -Wall -Wextra -Iinclude docs/examples/tutorial_s7_late.cpp -o tutorial_s7_late
#include <iostream>

#include <staticnet/staticnet.hpp>

namespace sn = staticnet;

// 3x3 conv that keeps the size, then BatchNorm2d and ReLU (no conv bias: BN has one).
template <int Out>
using ConvBnRelu = sn::Sequential<
    sn::Conv2d<sn::conv{.out = Out, .kernel = 3, .padding = 1, .bias = false}>, sn::BatchNorm2d,
    sn::ReLU>;

// 3x3 stride-2 conv: halves H and W (the exercise allows three of these).
template <int Out>
using DownConv = sn::Sequential<
    sn::Conv2d<sn::conv{.out = Out, .kernel = 3, .stride = 2, .padding = 1, .bias = false}>,
    sn::BatchNorm2d, sn::ReLU>;

// Depthwise-separable conv (3x3 depthwise, dilation Dil, then 1x1), BatchNorm2d, ReLU.
template <int Out, int Dil = 1>
using SepConv = sn::Sequential<
    sn::SeparableConv2d<sn::sep{.out = Out, .padding = Dil, .dilation = Dil, .bias = false}>,
    sn::BatchNorm2d, sn::ReLU>;

using S7LateNet = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", ConvBnRelu<16>, ConvBnRelu<32>>,
    sn::Block<"C2", DownConv<32>, SepConv<48>>,
    sn::Block<"C3", DownConv<48>, SepConv<48, 2>, SepConv<64>>,
    sn::Block<"C4", DownConv<64>, SepConv<96>>,
    sn::Block<"O", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
    sn::Flatten, sn::LogSoftmax>;

// What the compiler inferred and counted.
static_assert(sn::output_shape<S7LateNet> == sn::shape{.c = 10, .flat = true});
static_assert(sn::param_count<S7LateNet> == 88'506);
static_assert(sn::receptive_field<S7LateNet> == 63);
static_assert(sn::jump<S7LateNet> == 8);
static_assert(sn::separable_conv_count<S7LateNet> == 4);
static_assert(sn::dilated_conv_count<S7LateNet> == 1);

// The whole exercise, rule by rule; a broken rule is a compile error naming it.
static_assert(sn::check<S7LateNet, sn::exercises::S7Late>);

int main() {
  sn::print_summary<S7LateNet>(std::cout);
  sn::print_receptive_field<S7LateNet>(std::cout);
}
