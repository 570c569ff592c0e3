// The Fashion-MNIST example's network as a type, shared by the example
// (fashion_mnist.cpp) and the benchmarks (bench/inference/inference_compare.cpp,
// bench/train/staticnet_train_step.cpp). bench/train/pytorch_train_step.py's
// fashion() builds the same network in PyTorch.
#pragma once
#include <staticnet/core.hpp>

namespace fashion {
template <int Out>
using ConvBnRelu = staticnet::Sequential<
    staticnet::Conv2d<staticnet::conv{.out = Out, .kernel = 3, .padding = 1, .bias = false}>, staticnet::BatchNorm2d,
    staticnet::ReLU>;
}  // namespace fashion

/// 28x28 -> 14x14 -> 7x7, GAP straight to the classes.
using FashionNet = staticnet::Network<staticnet::Input<1, 28, 28>,
    staticnet::Block<"C1", fashion::ConvBnRelu<32>, staticnet::MaxPool2d<>>,
    staticnet::Block<"C2", fashion::ConvBnRelu<32>, fashion::ConvBnRelu<64>, staticnet::MaxPool2d<>>,
    staticnet::Block<"C3", fashion::ConvBnRelu<128>>,
    staticnet::Block<"O", staticnet::GlobalAvgPool, staticnet::Conv2d<staticnet::conv{.out = 10, .kernel = 1}>>,
    staticnet::Flatten, staticnet::LogSoftmax>;

// conv 1->32 (288) + BN (64); 32->32 (9,216) + 64; 32->64 (18,432) + 128; 64->128 (73,728) + 256; 1x1 128->10 (1,290)
static_assert(staticnet::param_count<FashionNet> == 288 + 64 + 9216 + 64 + 18432 + 128 + 73728 + 256 + 1290);
static_assert(staticnet::output_shape<FashionNet>.c == 10);
static_assert(staticnet::satisfies<FashionNet, staticnet::rules::GapToClasses<10>,
                                   staticnet::rules::ParamsBelow<110'000>>);
