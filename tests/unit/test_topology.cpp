// Composition: Sequential flattening, named Blocks and their conv counts,
// Add / Residual / Concat branches, Modules, and the layer-kind counts the rules use.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <staticnet/engine/tensor_names.hpp>

#include "networks.hpp"
#include "test_support.hpp"

namespace {

using namespace staticnet;
using namespace std::string_view_literals;
using ::assignments::S7DilatedReference;
using ::assignments::S9Reference;

template <int Out, int K = 3, int P = 1>
using C = Conv2d<conv{.out = Out, .kernel = K, .padding = P}>;
using Dw = DepthwiseConv2d<conv{.kernel = 3, .padding = 1, .bias = false}>;
template <int Out>
using Pw = PointwiseConv2d<Out, false>;

// ------------------------------------------------------------ Sequential ----

using Nested = Network<Input<3, 8, 8>, Sequential<C<4>, Sequential<BatchNorm2d, Sequential<ReLU>>>, Sequential<>,
                       Sequential<MaxPool2d<>>>;

TEST(TopologySequential, NestingFlattensToOneList) {
  static_assert(std::is_same_v<Nested::ops, type_list<C<4>, BatchNorm2d, ReLU, MaxPool2d<>>>);
  static_assert(std::is_same_v<flatten_t<Sequential<ReLU, Sequential<Flatten>>, LogSoftmax>,
                               type_list<ReLU, Flatten, LogSoftmax>>);
  EXPECT_EQ(Nested::op_count, 4u);
  EXPECT_EQ(layer_count<Nested>, 4);
  // 3x8x8 -> 4x8x8 -> pool 4x4x4; conv 4*3*9 + 4 = 112, BN 8
  EXPECT_EQ(Nested::output_shape, (shape{4, 4, 4}));
  EXPECT_EQ(param_count<Nested>, 120);
  // layers are numbered 1..4 in order; no markers
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Nested::plan.rows[static_cast<std::size_t>(i)].number, i + 1);
  EXPECT_EQ(Nested::plan.n_blocks, 0);
}

// ----------------------------------------------------------------- Block ----

// rows: 0 begin A, 1 conv, 2 begin B, 3 conv, 4 conv, 5 end B, 6 end A, 7 begin O, 8 GAP, 9 end O
using Blocks = Network<Input<3, 8, 8>, Block<"A", C<4>, Block<"B", C<4>, C<4>>>, Block<"O", GlobalAvgPool>>;

TEST(TopologyBlock, NamesNestingAndRows) {
  constexpr auto& pl = Blocks::plan;
  static_assert(pl.n_blocks == 3);
  static_assert(pl.blocks[0].name.view() == "A"sv);
  EXPECT_EQ(pl.n_blocks, 3);
  EXPECT_EQ(Blocks::op_count, 10u);
  EXPECT_EQ(layer_count<Blocks>, 4);
  EXPECT_EQ(pl.blocks[0].name.view(), "A"sv);
  EXPECT_EQ(pl.blocks[1].name.view(), "B"sv);
  EXPECT_EQ(pl.blocks[2].name.view(), "O"sv);
  EXPECT_EQ(pl.blocks[0].parent, -1);
  EXPECT_EQ(pl.blocks[1].parent, 0);
  EXPECT_EQ(pl.blocks[2].parent, -1);
  EXPECT_EQ(pl.blocks[0].first, 0);
  EXPECT_EQ(pl.blocks[0].last, 6);
  EXPECT_EQ(pl.blocks[1].first, 2);
  EXPECT_EQ(pl.blocks[1].last, 5);
  EXPECT_EQ(pl.blocks[2].first, 7);
  EXPECT_EQ(pl.blocks[2].last, 9);
  // convs count nested blocks too
  EXPECT_EQ(pl.blocks[0].convs, 3);
  EXPECT_EQ(pl.blocks[1].convs, 2);
  EXPECT_EQ(pl.blocks[2].convs, 0);
  // each row knows its innermost block
  EXPECT_EQ(pl.rows[1].block, 0);
  EXPECT_EQ(pl.rows[3].block, 1);
  EXPECT_EQ(pl.rows[8].block, 2);
  EXPECT_EQ(pl.rows[1].number, 1);
  EXPECT_EQ(pl.rows[0].number, 0);  // a marker
  EXPECT_EQ(pl.rows[8].number, 4);
}

TEST(TopologyBlock, S9ReferenceBlocks) {
  constexpr auto& pl = S9Reference::plan;
  static_assert(pl.n_blocks == 5);
  EXPECT_EQ(pl.n_blocks, 5);
  constexpr std::string_view names[5] = {"C1", "C2", "C3", "C4", "O"};
  for (int b = 0; b < 4; ++b) {
    EXPECT_EQ(pl.blocks[b].name.view(), names[b]);
    EXPECT_EQ(pl.blocks[b].parent, -1);
    EXPECT_EQ(pl.blocks[b].convs, 6);        // 3 units x (depthwise + pointwise)
    EXPECT_EQ(pl.blocks[b].conv_layers, 3);  // a separable pair counts as one
    EXPECT_EQ(pl.blocks[b].branch_groups, 0);
  }
  EXPECT_EQ(pl.blocks[4].name.view(), "O"sv);
  EXPECT_EQ(pl.blocks[4].convs, 1);
  EXPECT_EQ(pl.blocks[4].conv_layers, 1);
}

TEST(TopologyBlock, S7DilatedReferenceBlocks) {
  constexpr auto& pl = S7DilatedReference::plan;
  EXPECT_EQ(pl.n_blocks, 4);
  // C1: conv, dw, pw, pw -> 4 convs, 3 conv layers (dw + pw is one)
  EXPECT_EQ(pl.blocks[0].name.view(), "C1"sv);
  EXPECT_EQ(pl.blocks[0].convs, 4);
  EXPECT_EQ(pl.blocks[0].conv_layers, 3);
  // C2: conv, dw, pw, dilated conv -> 4 and 3
  EXPECT_EQ(pl.blocks[1].name.view(), "C2"sv);
  EXPECT_EQ(pl.blocks[1].convs, 4);
  EXPECT_EQ(pl.blocks[1].conv_layers, 3);
  // C3: pw, dw, pw, dw, pw -> 5 and 3
  EXPECT_EQ(pl.blocks[2].name.view(), "C3"sv);
  EXPECT_EQ(pl.blocks[2].convs, 5);
  EXPECT_EQ(pl.blocks[2].conv_layers, 3);
  EXPECT_EQ(pl.blocks[3].name.view(), "O"sv);
  EXPECT_EQ(pl.blocks[3].convs, 1);
}

// ------------------------------------------------------------- branches ----

// branch 1: 3x3 conv 8->8 (584); branch 2: 5x5 conv 8->8 (8*8*25 + 8 = 1,608) + BN (16)
using AddNet = Network<Input<8, 16, 16>, Add<C<8>, Sequential<C<8, 5, 2>, BatchNorm2d>>>;
// identity + conv (584) + ReLU; rows: begin, next, conv, ReLU, end
using ResidualNet = Network<Input<8, 16, 16>, Residual<C<8>, ReLU>>;
// 8 + 16 + 4 (pooling keeps the 4 input channels) = 28 channels;
// params (8*4*9 + 8) + (16*4*9 + 16) = 296 + 592 = 888
using ConcatNet = Network<Input<4, 16, 16>, Concat<C<8>, C<16>, MaxPool2d<pool{.kernel = 3, .stride = 1, .padding = 1}>>>;
// inner Concat 4 + 4 = 8 channels, added to an 8-channel conv;
// params 2*(4*8*9 + 4) + (8*8*9 + 8) = 584 + 584 = 1,168
using NestedNet = Network<Input<8, 8, 8>, Block<"C1", Add<Concat<C<4>, C<4>>, C<8>>>>;

TEST(TopologyBranches, AddPreservesTheShapeAndSumsBranchParams) {
  static_assert(AddNet::output_shape == shape{8, 16, 16});
  EXPECT_EQ(AddNet::output_shape, (shape{8, 16, 16}));
  static_assert(param_count<AddNet> == 584 + 1'608 + 16);
  EXPECT_EQ(param_count<AddNet>, 2'208);
  EXPECT_EQ(buffer_count<AddNet>, 16);
  EXPECT_EQ(layer_count<AddNet>, 3);
  EXPECT_EQ(AddNet::op_count, 6u);  // begin, conv, next, conv, BN, end
  EXPECT_EQ(AddNet::plan.rows[5].desc.kind, op_kind::branch_end);
  EXPECT_EQ(AddNet::plan.rows[5].desc.merge, merge_kind::add);
  EXPECT_EQ(AddNet::plan.rows[5].desc.branches, 2);
}

TEST(TopologyBranches, Residual) {
  EXPECT_EQ(ResidualNet::output_shape, (shape{8, 16, 16}));
  EXPECT_EQ(param_count<ResidualNet>, 584);
  EXPECT_EQ(ResidualNet::op_count, 5u);
  EXPECT_EQ(ResidualNet::plan.rows[2].depth, 1);  // the conv is inside the branch
  EXPECT_EQ(ResidualNet::plan.rows[4].depth, 0);  // the merge is back outside
  EXPECT_EQ(ResidualNet::plan.rows[2].in, (shape{8, 16, 16}));
}

TEST(TopologyBranches, ConcatSumsChannels) {
  static_assert(ConcatNet::output_shape == shape{28, 16, 16});
  EXPECT_EQ(ConcatNet::output_shape, (shape{28, 16, 16}));
  EXPECT_EQ(param_count<ConcatNet>, 888);
  EXPECT_EQ(ConcatNet::plan.rows.back().desc.merge, merge_kind::concat);
  EXPECT_EQ(ConcatNet::plan.rows.back().desc.branches, 3);
}

TEST(TopologyBranches, NestedBranches) {
  EXPECT_EQ(NestedNet::output_shape, (shape{8, 8, 8}));
  EXPECT_EQ(param_count<NestedNet>, 1'168);
  // rows: 0 block, 1 add begin, 2 concat begin, 3 conv, 4 next, 5 conv, 6 concat end,
  //       7 add next, 8 conv, 9 add end, 10 block end
  constexpr auto& pl = NestedNet::plan;
  EXPECT_EQ(pl.rows[3].depth, 2);
  EXPECT_EQ(pl.rows[6].depth, 1);
  EXPECT_EQ(pl.rows[6].out, (shape{8, 8, 8}));  // 4 + 4
  EXPECT_EQ(pl.rows[8].depth, 1);
  EXPECT_EQ(pl.rows[9].depth, 0);
  EXPECT_EQ(pl.blocks[0].branch_groups, 2);  // both merges lie inside C1
  EXPECT_EQ(pl.blocks[0].convs, 3);
}

// ------------------------------------------------------------- counts ----

TEST(TopologyCounts, ReferenceSolutions) {
  // S9: 12 depthwise + 12 pointwise + the output conv
  static_assert(conv_count<S9Reference> == 25);
  EXPECT_EQ(conv_count<S9Reference>, 25);
  EXPECT_EQ(depthwise_conv_count<S9Reference>, 12);
  EXPECT_EQ(separable_conv_count<S9Reference>, 12);
  EXPECT_EQ(dilated_conv_count<S9Reference>, 4);  // the third unit of each block
  EXPECT_EQ(maxpool_count<S9Reference>, 0);
  EXPECT_EQ(strided_count<S9Reference>, 0);
  EXPECT_EQ(linear_count<S9Reference>, 0);
  // S7-dilated: layers 1, 4, 5, 8, 9, 12, 13, 16, 19, 20, 21, 24, 25, 29
  static_assert(separable_conv_count<S7DilatedReference> == 4);
  EXPECT_EQ(conv_count<S7DilatedReference>, 14);
  EXPECT_EQ(depthwise_conv_count<S7DilatedReference>, 4);
  EXPECT_EQ(separable_conv_count<S7DilatedReference>, 4);  // spec: 4 depthwise-separable convs
  EXPECT_EQ(dilated_conv_count<S7DilatedReference>, 1);    // spec: 1 dilated conv
  EXPECT_EQ(maxpool_count<S7DilatedReference>, 0);
  EXPECT_EQ(strided_count<S7DilatedReference>, 0);
  EXPECT_TRUE((layer<S7DilatedReference, 5>.separable));
  EXPECT_FALSE((layer<S7DilatedReference, 8>.separable));  // pw after pw
}

using DwBnReluDropPw = Network<Input<8, 8, 8>, Dw, BatchNorm2d, ReLU, Dropout<p(0.1)>, Pw<16>>;
using DwPoolPw = Network<Input<8, 8, 8>, Dw, MaxPool2d<>, Pw<16>>;
using DwConv3 = Network<Input<8, 8, 8>, Dw, C<16>>;
using PwOnly = Network<Input<8, 8, 8>, Pw<16>, Pw<16>>;
using DwPwPw = Network<Input<8, 8, 8>, Dw, Pw<16>, Pw<16>>;
using GroupsEqIn = Network<Input<8, 8, 8>, Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .groups = 8}>, Pw<16>>;
using GroupsTwo = Network<Input<8, 8, 8>, Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .groups = 2}>, Pw<16>>;
using Multiplier = Network<Input<8, 8, 8>, DepthwiseConv2d<conv{.out = 16, .kernel = 3, .padding = 1}>, Pw<16>>;
using SplitByMerge = Network<Input<8, 8, 8>, Residual<Dw>, Pw<16>>;
using InsideBranch = Network<Input<8, 8, 8>, Concat<Sequential<Dw, BatchNorm2d, Pw<8>>, C<8>>>;
// the depthwise conv ends C1, the 1x1 starts C2: a pair does not span blocks
using AcrossBlocks = Network<Input<8, 8, 8>, Block<"C1", C<8>, Dw>, Block<"C2", Pw<16>, C<16>>>;
// DepthwiseConv2d on one channel: groups = 1 = in channels, still a depthwise conv
using DwOneChannel = Network<Input<1, 8, 8>, Dw, Pw<8>>;
using SepLayer = Network<Input<8, 8, 8>, SeparableConv2d<sep{.out = 16, .padding = 1}>,
                         SeparableConv2d<sep{.out = 16, .padding = 2, .dilation = 2}>>;

TEST(TopologyCounts, SeparablePairs) {
  static_assert(separable_conv_count<DwBnReluDropPw> == 1);
  EXPECT_EQ(separable_conv_count<DwBnReluDropPw>, 1);  // BN / ReLU / Dropout may sit between
  EXPECT_EQ(separable_conv_count<DwPoolPw>, 0);        // a pooling breaks the pair
  EXPECT_EQ(separable_conv_count<DwConv3>, 0);         // 3x3 is not pointwise
  EXPECT_EQ(separable_conv_count<PwOnly>, 0);
  EXPECT_EQ(separable_conv_count<DwPwPw>, 1);          // only the first 1x1 completes the pair
  EXPECT_EQ(separable_conv_count<GroupsEqIn>, 1);      // groups == in channels is depthwise
  EXPECT_EQ(depthwise_conv_count<GroupsEqIn>, 1);
  EXPECT_EQ(separable_conv_count<GroupsTwo>, 0);       // groups 2 of 8 is not
  EXPECT_EQ(depthwise_conv_count<GroupsTwo>, 0);
  EXPECT_EQ(separable_conv_count<Multiplier>, 1);
  EXPECT_EQ(separable_conv_count<SplitByMerge>, 0);    // the merge sits between
  EXPECT_EQ(separable_conv_count<InsideBranch>, 1);
  EXPECT_EQ(separable_conv_count<AcrossBlocks>, 0);
  EXPECT_EQ(AcrossBlocks::plan.blocks[0].conv_layers, 2);  // conv, depthwise
  EXPECT_EQ(AcrossBlocks::plan.blocks[1].conv_layers, 2);  // 1x1 (not half of a pair), conv
  EXPECT_EQ(depthwise_conv_count<DwOneChannel>, 1);
  EXPECT_EQ(separable_conv_count<DwOneChannel>, 1);
  EXPECT_EQ(separable_conv_count<SepLayer>, 2);
  EXPECT_EQ(depthwise_conv_count<SepLayer>, 2);
  EXPECT_EQ(conv_count<SepLayer>, 4);
  EXPECT_EQ(dilated_conv_count<SepLayer>, 1);
}

using Mixed = Network<Input<8, 64, 64>, Conv2d<conv{.out = 8, .kernel = 3, .stride = 2, .padding = 1}>, MaxPool2d<>,
                      AvgPool2d<pool{.kernel = 3, .stride = 1, .padding = 1}>,
                      Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .stride_w = 2}>,
                      MaxPool2d<pool{.kernel = 3, .stride = 1, .padding = 0, .dilation = 2}>,
                      Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .dilation_w = 2}>, GlobalAvgPool,
                      Flatten, Linear<linear{.out = 10}>>;

TEST(TopologyCounts, StridesPoolsDilations) {
  // strided: conv s2, MaxPool2d<> (stride = kernel = 2), conv stride_w 2 -> 3; AvgPool s1 is not
  EXPECT_EQ(strided_count<Mixed>, 3);
  EXPECT_EQ(strided_conv_count<Mixed>, 2);
  EXPECT_EQ(maxpool_count<Mixed>, 2);  // the AvgPool2d does not count
  // dilated convs: only the dilation_w 2 conv (a dilated max pool is not a conv)
  EXPECT_EQ(dilated_conv_count<Mixed>, 1);
  EXPECT_EQ(conv_count<Mixed>, 3);
  EXPECT_EQ(linear_count<Mixed>, 1);
  EXPECT_EQ(depthwise_conv_count<Mixed>, 0);
}

}  // namespace

// ---------------------------------------------------------------- Module ----

namespace module_test {
template <int Out>
using Unit = Module<"Unit", Conv2d<conv{.out = Out, .padding = 1, .bias = false}>, BatchNorm2d, ReLU>;
using Net = Network<Input<3, 8, 8>, Unit<8>,
                    Block<"C1", Unit<8>, Module<"Res", Residual<Unit<8>>>, Dw, Pw<16>>,
                    Module<"Head", GlobalAvgPool, Flatten, Linear<linear{.out = 10}>, LogSoftmax>>;
}  // namespace module_test

TEST(TopologyModule, MarkersRowsAndNames) {
  using module_test::Net;
  // Modules leave block markers flagged .module; they are not Blocks.
  static_assert(Net::plan.n_blocks == 1 && Net::plan.blocks[0].name.view() == "C1"sv);
  static_assert(Net::plan.rows[0].desc.kind == op_kind::block_begin && Net::plan.rows[0].desc.module);
  static_assert(Net::plan.rows[0].desc.name.view() == "Unit"sv);
  static_assert(layer_count<Net> == 3 + 3 + 3 + 2 + 4);
  static_assert(param_count<Net> == (216 + 16) + (576 + 16) * 2 + (72 + 128) + 170);
  // The layers inside a Module count in the enclosing Block: C1's convs are its Units', the Res
  // body's, and the separable pair (which a Module boundary would break, as a Block boundary does).
  static_assert(Net::plan.blocks[0].convs == 4 && Net::plan.blocks[0].conv_layers == 3);
  static_assert(separable_conv_count<Net> == 1);
  // torchsummary rows: every Module's end; Flatten / LogSoftmax in a Module are functions.
  int module_rows = 0, functional = 0;
  for (const plan_row& r : Net::plan.rows) {
    if (r.desc.kind == op_kind::block_end && r.desc.module) {
      EXPECT_TRUE(r.torch_row);
      EXPECT_FALSE(r.is_layer());
      ++module_rows;
    }
    if (r.is_layer() && !r.torch_row) ++functional;
  }
  EXPECT_EQ(module_rows, 5);
  EXPECT_EQ(functional, 2);
  EXPECT_EQ(torchsummary_estimate<Net>.rows, layer_count<Net> - 2 + 5);
  // A Module is named by its index in its container, its layers by theirs.
  std::vector<std::string> names;
  for (const tensor_spec& t : tensor_specs<Net>()) names.push_back(t.name);
  ASSERT_GE(names.size(), 16u);
  EXPECT_EQ(names[0], "0.0.weight");
  EXPECT_EQ(names[1], "0.1.weight");
  EXPECT_EQ(names[5], "C1.0.0.weight");
  EXPECT_EQ(names[10], "C1.1.0.branches.1.0.0.weight");  // Res (C1.1) > Add (0) > branch 1 > Unit (0) > conv (0)
  EXPECT_EQ(names.back(), "2.2.bias");                    // Head's Linear
}

TEST(TopologyModule, FlattenInABlockIsATorchsummaryRow) {
  using InBlock = Network<Input<3, 4, 4>, Block<"O", GlobalAvgPool, Flatten, Linear<linear{.out = 2}>, LogSoftmax>>;
  using InNetwork = Network<Input<3, 4, 4>, GlobalAvgPool, Flatten, Linear<linear{.out = 2}>, LogSoftmax>;
  static_assert(torchsummary_estimate<InBlock>.rows == 4);    // nn.Flatten and nn.LogSoftmax in an nn.Sequential
  static_assert(torchsummary_estimate<InNetwork>.rows == 2);  // torch.flatten and F.log_softmax in the forward
}
