// Branchy test networks for the PyTorch interop test (tests/pytorch) and the
// summary golden files (tests/golden/generate_summaries.py writes their
// PyTorch forms by hand): every kind of layer, every kind of branch, Flatten
// and LogSoftmax both in the network or a Module (functions) and in a Block
// (modules); Modules at the top, in Blocks, in branches, in Modules.
#pragma once
#include <staticnet/core.hpp>

namespace torch_networks {
namespace sn = staticnet;

/// A residual block, a Concat holding a nested Add (one branch a depthwise
/// dilated conv, the other ZeroPad2d + AvgPool2d) and a max pool; a ceil-mode
/// max pool, a 3x1 conv, Identity and Dropout; a head Block with an
/// AvgPool2d that excludes padding, Flatten, two Linear and LogSoftmax.
using BranchyNet = sn::Network<sn::Input<3, 16, 16>,
    sn::Conv2d<sn::conv{.out = 8, .padding = 1, .bias = false}>, sn::BatchNorm2d, sn::ReLU,
    sn::Block<"C1",
        sn::Residual<sn::Conv2d<sn::conv{.out = 8, .padding = 1, .bias = false}>, sn::BatchNorm2d, sn::ReLU,
                     sn::Conv2d<sn::conv{.out = 8, .kernel = 1}>>,
        sn::Concat<sn::Sequential<sn::Conv2d<sn::conv{.out = 4, .kernel = 1}>, sn::ReLU>,
                   sn::Add<sn::DepthwiseConv2d<sn::conv{.padding = 2, .dilation = 2}>,
                           sn::Sequential<sn::ZeroPad2d<sn::pad{.left = 1, .right = 0, .top = 1, .bottom = 0}>,
                                          sn::AvgPool2d<sn::pool{.kernel = 2, .stride = 1}>>>,
                   sn::MaxPool2d<sn::pool{.kernel = 3, .stride = 1, .padding = 1}>>>,
    sn::Block<"T", sn::MaxPool2d<sn::pool{.kernel = 3, .stride = 2, .ceil_mode = true}>,
              sn::Conv2d<sn::conv{.out = 12, .kernel_h = 3, .kernel_w = 1, .padding_h = 1, .padding_w = 0}>,
              sn::Identity, sn::Dropout<sn::p(0.25)>>,
    sn::Block<"O", sn::AvgPool2d<sn::pool{.kernel = 3, .stride = 2, .padding = 1, .count_include_pad = false}>,
              sn::Flatten, sn::Linear<sn::linear{.out = 16}>, sn::ReLU, sn::Dropout<>,
              sn::Linear<sn::linear{.out = 10, .bias = false}>, sn::LogSoftmax>>;

/// A residual directly in the network (an Add in the model's own steps), a
/// Block nested in a Block, a Concat of an identity, a single layer and a
/// Sequential, then Identity, global pooling, a 1x1 conv, Flatten, LogSoftmax.
using NestedNet = sn::Network<sn::Input<3, 12, 12>,
    sn::Conv2d<sn::conv{.out = 6, .stride = 2, .padding = 1}>,
    sn::Residual<sn::BatchNorm2d, sn::ReLU, sn::Conv2d<sn::conv{.out = 6, .padding = 1}>>,
    sn::Block<"C2", sn::Block<"inner", sn::Conv2d<sn::conv{.out = 6, .kernel = 1, .bias = false}>, sn::BatchNorm2d>,
              sn::Concat<sn::Sequential<>, sn::ReLU,
                         sn::Sequential<sn::Conv2d<sn::conv{.out = 3, .padding = 1}>, sn::ReLU>>>,
    sn::Identity, sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>, sn::Flatten, sn::LogSoftmax>;

// -------------------------------------------------------- modules --
/// 3x3 conv (no bias), BatchNorm2d, ReLU: `class ConvBnRelu(nn.Module)`.
template <int Out>
using ConvBnRelu = sn::Module<"ConvBnRelu", sn::Conv2d<sn::conv{.out = Out, .padding = 1, .bias = false}>,
                              sn::BatchNorm2d, sn::ReLU>;
/// x + body(x), then ReLU; the body holds a ConvBnRelu module.
template <int C>
using ResBlock = sn::Module<"ResBlock", sn::Residual<ConvBnRelu<C>, sn::Conv2d<sn::conv{.out = C, .kernel = 1}>>,
                            sn::ReLU>;
/// Depthwise 3x3 then pointwise 1x1.
template <int Out>
using SepConv = sn::Module<"SepConv", sn::DepthwiseConv2d<sn::conv{.padding = 1, .bias = false}>,
                           sn::PointwiseConv2d<Out>>;
/// Global pooling, Flatten, Linear, LogSoftmax (Flatten and LogSoftmax are
/// functions of its forward, as in the network's).
using Head = sn::Module<"Head", sn::GlobalAvgPool, sn::Flatten, sn::Linear<sn::linear{.out = 10}>, sn::LogSoftmax>;

/// The module-heavy network: a Module at the top, Modules in a Block, a
/// Module holding a Block and a Concat whose first branch is a Module, an
/// empty Module, a Module ending the network.
using ModuleNet = sn::Network<sn::Input<3, 16, 16>,
    ConvBnRelu<16>,
    sn::Block<"C1", ResBlock<16>, SepConv<32>, sn::MaxPool2d<>>,
    sn::Module<"Stage", sn::Block<"inner", ConvBnRelu<32>>, sn::Concat<SepConv<16>, sn::Sequential<>>>,
    sn::Module<"Tap">,
    Head>;

/// docs/tutorial.md's "From your PyTorch model": a PyTorch model of module
/// classes (ConvBnRelu; ResBlock, x + body(x)) as a staticnet type.
template <int Out, int Dil = 1>
using TutorialConvBnRelu = sn::Module<"ConvBnRelu",
    sn::Conv2d<sn::conv{.out = Out, .kernel = 3, .padding = Dil, .dilation = Dil, .bias = false}>, sn::BatchNorm2d,
    sn::ReLU>;
template <int C>
using TutorialResBlock = sn::Module<"ResBlock", sn::Residual<TutorialConvBnRelu<C>>>;
using TutorialNet = sn::Network<sn::Input<3, 32, 32>,
    TutorialConvBnRelu<32>,
    sn::Block<"c1", TutorialResBlock<32>, sn::MaxPool2d<>>,
    sn::Block<"c2", TutorialConvBnRelu<64, 2>, sn::MaxPool2d<>>,
    sn::Block<"head", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
    sn::Flatten, sn::LogSoftmax>;

static_assert(sn::output_shape<BranchyNet> == sn::shape{.c = 10, .flat = true});
static_assert(sn::param_count<TutorialNet> == 29'418);
static_assert(sn::output_shape<ModuleNet> == sn::shape{.c = 10, .flat = true});
static_assert(sn::layer<ModuleNet, 17>.in == sn::shape{48, 8, 8});  // Head's pooling, after Stage's Concat: 16 + 32
static_assert(sn::layer<BranchyNet, 14>.in == sn::shape{20, 16, 16});  // after the Concat: 4 + 8 + 8
static_assert(sn::output_shape<NestedNet> == sn::shape{.c = 10, .flat = true});

}  // namespace torch_networks
