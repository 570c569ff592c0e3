// Every rule of rules.hpp on a network that satisfies it and one that does
// not (verdict code and measured value), and the named rule sets of
// assignments.hpp on the reference solutions.
#include <gtest/gtest.h>

#include <cstdint>

#include "networks.hpp"
#include "test_support.hpp"

namespace {

using namespace staticnet;
using ::assignments::S7DilatedReference;
using ::assignments::S9Reference;

/// The gtest checks of expect_verdict, compiled once (keeps the file quick to build).
void check_verdict(rules::verdict v, bool holds, bool satisfied, int code, std::int64_t value, int line) {
  SCOPED_TRACE(testing::Message() << "expect_verdict at line " << line);
  EXPECT_EQ(v.code, code);
  EXPECT_EQ(v.value, value);
  EXPECT_EQ(holds, code == 0);
  EXPECT_EQ(satisfied, code == 0);
}

/// Checks Rule's verdict on Net, and that holds / satisfies agree with it.
template <class Rule, class Net>
void expect_verdict(int code, std::int64_t value, int line) {
  constexpr rules::verdict v = Rule::template measure<Net>();
  check_verdict(v, Rule::template holds<Net>(), satisfies<Net, Rule>, code, value, line);
}

template <int Out, int K = 3, int S = 1, int P = 1, int D = 1>
using C = Conv2d<conv{.out = Out, .kernel = K, .stride = S, .padding = P, .dilation = D}>;
using Dw = DepthwiseConv2d<conv{.kernel = 3, .padding = 1, .bias = false}>;
template <int Out>
using Pw = PointwiseConv2d<Out>;
using Sep16 = SeparableConv2d<sep{.out = 16, .padding = 1}>;

// 3 -> 16, 3x3 pad 1: 16*3*9 + 16 = 448 parameters; RF 3
using P448 = Network<Input<3, 8, 8>, C<16>>;

// ------------------------------------------------------------ ParamsBelow ----

TEST(RuleParamsBelow, StrictlyBelow) {
  static_assert(satisfies<P448, rules::ParamsBelow<449>>);
  static_assert(!satisfies<P448, rules::ParamsBelow<448>>);
  expect_verdict<rules::ParamsBelow<449>, P448>(0, 448, __LINE__);
  expect_verdict<rules::ParamsBelow<448>, P448>(1, 448, __LINE__);
  expect_verdict<rules::ParamsBelow<200'000>, S9Reference>(0, 198'757, __LINE__);
  expect_verdict<rules::ParamsBelow<198'757>, S9Reference>(1, 198'757, __LINE__);
}

// ----------------------------------------------------- ReceptiveFieldAbove ----

TEST(RuleReceptiveFieldAbove, StrictlyAbove) {
  expect_verdict<rules::ReceptiveFieldAbove<2>, P448>(0, 3, __LINE__);
  expect_verdict<rules::ReceptiveFieldAbove<3>, P448>(1, 3, __LINE__);
  expect_verdict<rules::ReceptiveFieldAbove<32>, S9Reference>(0, 33, __LINE__);
  expect_verdict<rules::ReceptiveFieldAbove<44>, S9Reference>(1, 33, __LINE__);
  expect_verdict<rules::ReceptiveFieldAbove<52>, S7DilatedReference>(1, 21, __LINE__);
}

// --------------------------------------------- dilated / separable / depthwise ----

// one dilated 3x3 (d2 p2) and one plain 3x3
using OneDilated = Network<Input<3, 16, 16>, C<4, 3, 1, 2, 2>, C<4>>;
// two separable convs: 2 depthwise + 2 pointwise
using TwoSeparable = Network<Input<8, 16, 16>, Sep16, BatchNorm2d, ReLU, Sep16>;
// a depthwise conv with no 1x1 after it
using DwOnly = Network<Input<8, 16, 16>, Dw, ReLU>;

TEST(RuleMinDilatedConvs, CountsDilatedConvs) {
  expect_verdict<rules::MinDilatedConvs<1>, OneDilated>(0, 1, __LINE__);
  expect_verdict<rules::MinDilatedConvs<2>, OneDilated>(1, 1, __LINE__);
  expect_verdict<rules::MinDilatedConvs<1>, P448>(1, 0, __LINE__);
  expect_verdict<rules::MinDilatedConvs<4>, S9Reference>(0, 4, __LINE__);
}

TEST(RuleMinSeparableConvs, CountsDepthwiseThenPointwise) {
  expect_verdict<rules::MinSeparableConvs<2>, TwoSeparable>(0, 2, __LINE__);
  expect_verdict<rules::MinSeparableConvs<3>, TwoSeparable>(1, 2, __LINE__);
  expect_verdict<rules::MinSeparableConvs<1>, DwOnly>(1, 0, __LINE__);
  expect_verdict<rules::MinSeparableConvs<4>, S7DilatedReference>(0, 4, __LINE__);
  expect_verdict<rules::MinSeparableConvs<5>, S7DilatedReference>(1, 4, __LINE__);
}

TEST(RuleMinDepthwiseConvs, CountsDepthwiseConvs) {
  expect_verdict<rules::MinDepthwiseConvs<1>, DwOnly>(0, 1, __LINE__);
  expect_verdict<rules::MinDepthwiseConvs<2>, TwoSeparable>(0, 2, __LINE__);
  expect_verdict<rules::MinDepthwiseConvs<1>, P448>(1, 0, __LINE__);
  expect_verdict<rules::MinDepthwiseConvs<13>, S9Reference>(1, 12, __LINE__);
}

// ------------------------------------------------- pooling and strides ----

using TwoMaxPools = Network<Input<3, 32, 32>, C<8>, MaxPool2d<>, C<8>, MaxPool2d<>>;
using AvgOnly = Network<Input<3, 32, 32>, C<8>, AvgPool2d<>>;  // stride 2 (= kernel), no max pool
using ThreeStrided = Network<Input<3, 32, 32>, C<8, 3, 2>, C<8, 3, 2>, C<8, 3, 2>, MaxPool2d<>>;
using FourStrided = Network<Input<3, 32, 32>, C<8, 3, 2>, C<8, 3, 2>, C<8, 3, 2>, C<8, 3, 2>>;
// layer 2 is a 5x5 stride-2 conv
using StridedK5 = Network<Input<3, 32, 32>, C<8>, C<8, 5, 2, 2>>;
using StrideOnePool = Network<Input<3, 32, 32>, C<8>, MaxPool2d<pool{.kernel = 3, .stride = 1, .padding = 1}>>;
using StrideHOnly = Network<Input<3, 32, 32>, Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .stride_h = 2}>>;

TEST(RuleNoMaxPool, AnyMaxPoolBreaksIt) {
  expect_verdict<rules::NoMaxPool, P448>(0, 0, __LINE__);
  expect_verdict<rules::NoMaxPool, AvgOnly>(0, 0, __LINE__);
  expect_verdict<rules::NoMaxPool, TwoMaxPools>(1, 2, __LINE__);
  expect_verdict<rules::NoMaxPool, S7DilatedReference>(0, 0, __LINE__);
}

TEST(RuleExactMaxPools, ExactlyN) {
  expect_verdict<rules::ExactMaxPools<2>, TwoMaxPools>(0, 2, __LINE__);
  expect_verdict<rules::ExactMaxPools<3>, TwoMaxPools>(1, 2, __LINE__);
  expect_verdict<rules::ExactMaxPools<1>, TwoMaxPools>(1, 2, __LINE__);
  expect_verdict<rules::ExactMaxPools<0>, P448>(0, 0, __LINE__);
}

TEST(RuleNoStride, ConvsAndPoolingsWithStride) {
  expect_verdict<rules::NoStride, P448>(0, 0, __LINE__);
  expect_verdict<rules::NoStride, S7DilatedReference>(0, 0, __LINE__);
  expect_verdict<rules::NoStride, AvgOnly>(1, 1, __LINE__);       // the 2x2 average pooling
  expect_verdict<rules::NoStride, TwoMaxPools>(1, 2, __LINE__);
  expect_verdict<rules::NoStride, ThreeStrided>(1, 4, __LINE__);  // 3 convs + 1 max pool
  expect_verdict<rules::NoStride, StrideHOnly>(1, 1, __LINE__);
}

TEST(RuleNoStridedPool, OnlyPoolingsWithStride) {
  expect_verdict<rules::NoStridedPool, P448>(0, 0, __LINE__);
  expect_verdict<rules::NoStridedPool, FourStrided>(0, 0, __LINE__);   // strided convs are allowed
  expect_verdict<rules::NoStridedPool, ThreeStrided>(1, 1, __LINE__);  // its 2x2 max pool
  expect_verdict<rules::NoStridedPool, AvgOnly>(1, 1, __LINE__);
  expect_verdict<rules::NoStridedPool, TwoMaxPools>(1, 2, __LINE__);
  expect_verdict<rules::NoStridedPool, StrideOnePool>(0, 0, __LINE__);  // 3x3 stride-1 pooling
}

TEST(RuleMaxStridedConvs, AtMostNStrided3x3Convs) {
  // the max pool's stride is not a strided conv
  expect_verdict<rules::MaxStridedConvs<3>, ThreeStrided>(0, 3, __LINE__);
  expect_verdict<rules::MaxStridedConvs<3>, FourStrided>(1, 4, __LINE__);
  expect_verdict<rules::MaxStridedConvs<4>, FourStrided>(0, 4, __LINE__);
  expect_verdict<rules::MaxStridedConvs<3>, P448>(0, 0, __LINE__);
  // a strided conv that is not 3x3: code 2, value = its layer number
  expect_verdict<rules::MaxStridedConvs<3>, StridedK5>(2, 2, __LINE__);
  expect_verdict<rules::MaxStridedConvs<0>, StrideHOnly>(1, 1, __LINE__);
}

// ----------------------------------------------------------- GapToClasses ----

using NoGap = Network<Input<3, 8, 8>, C<10>, Flatten, LogSoftmax>;
// layers: conv 1, GAP 2, Flatten 3, Linear 4
using GapLinear = Network<Input<3, 8, 8>, C<16>, GlobalAvgPool, Flatten, Linear<linear{.out = 10}>>;
// layers: conv 1, GAP 2, 3x3 conv 3 (pad 1 on 1x1 keeps 1x1)
using GapConv3 = Network<Input<3, 8, 8>, C<16>, GlobalAvgPool, C<10>>;
using GapTwoConvs = Network<Input<3, 8, 8>, C<16>, GlobalAvgPool, Pw<32>, ReLU, Pw<10>, Flatten, LogSoftmax>;
using GapDirect = Network<Input<3, 8, 8>, C<10>, GlobalAvgPool>;

TEST(RuleGapToClasses, AllCases) {
  expect_verdict<rules::GapToClasses<10>, S9Reference>(0, 1, __LINE__);
  expect_verdict<rules::GapToClasses<10>, S7DilatedReference>(0, 1, __LINE__);
  expect_verdict<rules::GapToClasses<10>, GapDirect>(0, 0, __LINE__);  // 10 x 1 x 1 = 10 elements
  expect_verdict<rules::GapToClasses<10>, NoGap>(1, 0, __LINE__);
  expect_verdict<rules::GapToClasses<10>, GapLinear>(2, 4, __LINE__);
  expect_verdict<rules::GapToClasses<10>, GapConv3>(3, 3, __LINE__);
  expect_verdict<rules::GapToClasses<10>, GapTwoConvs>(4, 2, __LINE__);
  expect_verdict<rules::GapToClasses<10, 2>, GapTwoConvs>(0, 2, __LINE__);
  expect_verdict<rules::GapToClasses<12>, S9Reference>(5, 10, __LINE__);
}

// A full-window pool on the last map is global pooling: AvgPool2d(8) / MaxPool2d(8)
// on 8x8 (layers: conv 1, pool 2, 1x1 conv 3); AvgPool2d(4) on 8x8 is not (2x2 out).
using AvgHead = Network<Input<3, 8, 8>, C<16>, AvgPool2d<pool{.kernel = 8}>, Pw<10>, Flatten, LogSoftmax>;
using MaxHead = Network<Input<3, 8, 8>, C<16>, MaxPool2d<pool{.kernel = 8}>, Pw<10>, Flatten>;
using AdaptiveHead = Network<Input<3, 8, 8>, C<16>, AdaptiveAvgPool2d<1>, Pw<10>, Flatten>;
using PartialHead = Network<Input<3, 8, 8>, C<16>, AvgPool2d<pool{.kernel = 4}>, Pw<10>, Flatten>;
// a global max pool after transitions is not a transition itself (layers 2, 4 and 6)
using TransThenGlobalMax = Network<Input<3, 16, 16>, C<64>, MaxPool2d<>, Pw<32>, MaxPool2d<>, Pw<32>,
                                   MaxPool2d<pool{.kernel = 4}>, Pw<10>>;

TEST(RuleGapToClasses, AFullWindowPoolIsTheGlobalPooling) {
  expect_verdict<rules::GapToClasses<10>, AvgHead>(0, 1, __LINE__);
  expect_verdict<rules::GapToClasses<10>, MaxHead>(0, 1, __LINE__);
  expect_verdict<rules::GapToClasses<10>, AdaptiveHead>(0, 1, __LINE__);
  expect_verdict<rules::GapToClasses<10>, PartialHead>(1, 0, __LINE__);
  static_assert(check<AvgHead, rules::GapToClasses<10>, rules::NoStride, rules::NoStridedPool, rules::NoMaxPool>);
  // its stride (8) is not a downsampling, nor is the global max pool a max pool
  expect_verdict<rules::NoStride, AvgHead>(0, 0, __LINE__);
  expect_verdict<rules::NoStridedPool, MaxHead>(0, 0, __LINE__);
  expect_verdict<rules::NoMaxPool, MaxHead>(0, 0, __LINE__);
  expect_verdict<rules::NoStride, PartialHead>(1, 1, __LINE__);
  EXPECT_EQ(global_pool_count<AvgHead>, 1);
  EXPECT_EQ(global_pool_count<MaxHead>, 1);
  EXPECT_EQ(global_pool_count<PartialHead>, 0);
  EXPECT_EQ(maxpool_count<MaxHead>, 0);
  EXPECT_EQ(maxpool_count<TransThenGlobalMax>, 2);
  expect_verdict<rules::TransitionsTo<32>, TransThenGlobalMax>(0, 0, __LINE__);
  expect_verdict<rules::ExactMaxPools<2>, TransThenGlobalMax>(0, 2, __LINE__);
}

// ------------------------------------------------------------- ConvBlocks ----

using C1C3 = Network<Input<3, 8, 8>, Block<"C1", C<4>>, Block<"C3", C<4>>>;
using C2C1 = Network<Input<3, 8, 8>, Block<"C2", C<4>>, Block<"C1", C<4>>>;
using C1C2C3 = Network<Input<3, 8, 8>, Block<"C1", C<4>>, Block<"C2", C<4>>, Block<"C3", C<4>>>;
using NestedC = Network<Input<3, 8, 8>, Block<"C1", C<4>, Block<"C2", C<4>>>, Block<"T1", C<4>>, Block<"O", C<4>>>;

TEST(RuleConvBlocks, OrderAndConvLayers) {
  expect_verdict<rules::ConvBlocks<4, 3>, S9Reference>(0, 4, __LINE__);
  expect_verdict<rules::ConvBlocks<4>, S9Reference>(0, 4, __LINE__);
  expect_verdict<rules::ConvBlocks<3>, S7DilatedReference>(0, 3, __LINE__);
  expect_verdict<rules::ConvBlocks<3, 3>, S7DilatedReference>(0, 3, __LINE__);
  // C1 has 3 conv layers, not 2: code 2, value block*1000 + conv layers = 1003
  expect_verdict<rules::ConvBlocks<3, 2>, S7DilatedReference>(2, 1'003, __LINE__);
  // only C1..C3: C4 is the first missing one
  expect_verdict<rules::ConvBlocks<4>, S7DilatedReference>(1, 4, __LINE__);
  // C2 missing between C1 and C3
  expect_verdict<rules::ConvBlocks<3>, C1C3>(1, 2, __LINE__);
  // out of order: C1 expected first
  expect_verdict<rules::ConvBlocks<2>, C2C1>(1, 1, __LINE__);
  // nested C blocks and non-C names (T1, O) are ignored; C1 holds both convs
  expect_verdict<rules::ConvBlocks<1, 2>, NestedC>(0, 1, __LINE__);
}

TEST(RuleConvBlocks, ExtraBlocksReportCode3) {
  // one more C block than allowed, in order: code 3 with the extra block's index
  expect_verdict<rules::ConvBlocks<2>, C1C2C3>(3, 3, __LINE__);
  expect_verdict<rules::ConvBlocks<3>, S9Reference>(3, 4, __LINE__);
  expect_verdict<rules::ConvBlocks<3>, C1C2C3>(0, 3, __LINE__);
}

TEST(RuleConvBlocks, BlockIndexParsing) {
  static_assert(rules::detail::c_block_index("C7") == 7);
  EXPECT_EQ(rules::detail::c_block_index("C1"), 1);
  EXPECT_EQ(rules::detail::c_block_index("C12"), 12);
  EXPECT_EQ(rules::detail::c_block_index("C"), 0);
  EXPECT_EQ(rules::detail::c_block_index("O"), 0);
  EXPECT_EQ(rules::detail::c_block_index("C1a"), 0);
  EXPECT_EQ(rules::detail::c_block_index("T1"), 0);
}

// --------------------------------------------------- BranchesInEveryBlock ----

using Branchy = Network<Input<8, 8, 8>, Block<"C1", Residual<C<8>>>, Block<"C2", Concat<C<8>, C<8>>>,
                        Block<"O", GlobalAvgPool>>;
using C2Plain = Network<Input<8, 8, 8>, Block<"C1", Add<C<8>, C<8>>>, Block<"C2", C<8>>>;
using DeepBranch = Network<Input<8, 8, 8>, Block<"C1", Block<"X", Residual<C<8>>>>>;

TEST(RuleBranchesInEveryBlock, EveryCBlockNeedsAMerge) {
  // holds: value = the number of top-level C blocks checked
  expect_verdict<rules::BranchesInEveryBlock, Branchy>(0, 2, __LINE__);     // O needs none
  expect_verdict<rules::BranchesInEveryBlock, DeepBranch>(0, 1, __LINE__);  // nested inside C1 counts
  // code 1: the first C block without a merge (its index)
  expect_verdict<rules::BranchesInEveryBlock, C2Plain>(1, 2, __LINE__);
  expect_verdict<rules::BranchesInEveryBlock, S9Reference>(1, 1, __LINE__);
  // code 2: no C blocks at all
  expect_verdict<rules::BranchesInEveryBlock, P448>(2, 0, __LINE__);
}

// ------------------------------------------------------------ TransitionsTo ----

// layers: conv 1, pool 2, 1x1 3, conv 4, pool 5 (in block T), 1x1 6 (in block C)
using TransOk = Network<Input<3, 32, 32>, C<64>, MaxPool2d<>, Pw<32>, C<64>, Block<"T", MaxPool2d<>>, Block<"C", Pw<32>>>;
using TransWrongChannels = Network<Input<3, 32, 32>, C<64>, MaxPool2d<>, Pw<16>>;
using TransBnBetween = Network<Input<3, 32, 32>, C<64>, MaxPool2d<>, BatchNorm2d, Pw<32>>;
using TransAtEnd = Network<Input<3, 32, 32>, C<64>, MaxPool2d<>>;
using Trans3x3 = Network<Input<3, 32, 32>, C<64>, MaxPool2d<>, C<32>>;
using TransSecondBad = Network<Input<3, 32, 32>, C<64>, MaxPool2d<>, Pw<32>, C<64>, MaxPool2d<>, ReLU>;

TEST(RuleTransitionsTo, MaxPoolThenOneByOneToC) {
  expect_verdict<rules::TransitionsTo<32>, TransOk>(0, 0, __LINE__);  // block markers are skipped
  expect_verdict<rules::TransitionsTo<32>, P448>(0, 0, __LINE__);     // no max pool
  expect_verdict<rules::TransitionsTo<32>, TransWrongChannels>(1, 2, __LINE__);
  expect_verdict<rules::TransitionsTo<16>, TransWrongChannels>(0, 0, __LINE__);
  expect_verdict<rules::TransitionsTo<32>, TransBnBetween>(1, 2, __LINE__);
  expect_verdict<rules::TransitionsTo<32>, TransAtEnd>(1, 2, __LINE__);
  expect_verdict<rules::TransitionsTo<32>, Trans3x3>(1, 2, __LINE__);
  expect_verdict<rules::TransitionsTo<32>, TransSecondBad>(1, 5, __LINE__);
}

// ------------------------------------------------------------- rule sets ----

TEST(RuleSets, AllCombinesRules) {
  using Both = rules::all<rules::ParamsBelow<449>, rules::ReceptiveFieldAbove<2>>;
  using OneBroken = rules::all<rules::ParamsBelow<449>, rules::ReceptiveFieldAbove<3>>;
  static_assert(satisfies<P448, Both>);
  static_assert(check<P448, Both>);
  EXPECT_TRUE((satisfies<P448, Both>));
  EXPECT_FALSE((satisfies<P448, OneBroken>));
  EXPECT_TRUE((satisfies<P448, rules::ParamsBelow<449>, rules::ReceptiveFieldAbove<2>>));
  EXPECT_FALSE((satisfies<P448, rules::ParamsBelow<449>, rules::ReceptiveFieldAbove<3>>));
}

TEST(RuleSets, S9ReferenceBreaksOnlyTheReceptiveFieldRule) {
  // spec: RF 33, not above 44; every other S9 rule holds
  static_assert(satisfies<S9Reference, rules::ConvBlocks<4, 3>, rules::ParamsBelow<200'000>,
                          rules::MinDilatedConvs<1>, rules::MinSeparableConvs<1>, rules::GapToClasses<10>>);
  static_assert(!satisfies<S9Reference, staticnet::exercises::S9>);
  EXPECT_TRUE((satisfies<S9Reference, rules::ConvBlocks<4, 3>>));
  EXPECT_TRUE((satisfies<S9Reference, rules::ParamsBelow<200'000>>));
  EXPECT_TRUE((satisfies<S9Reference, rules::MinDilatedConvs<1>>));
  EXPECT_TRUE((satisfies<S9Reference, rules::MinSeparableConvs<1>>));
  EXPECT_TRUE((satisfies<S9Reference, rules::GapToClasses<10>>));
  EXPECT_FALSE((satisfies<S9Reference, rules::ReceptiveFieldAbove<44>>));
  EXPECT_FALSE((satisfies<S9Reference, staticnet::exercises::S9>));
  EXPECT_FALSE((satisfies<S9Reference, staticnet::exercises::S7Dilated>));  // four C blocks, not three
}

// A solution in the users' style: C1 grows the map with a 1x1 conv of padding 1
// (32 -> 34, legal in PyTorch), three 3x3 stride-2 convs downsample to 5x5,
// and the head is AvgPool2d(5) on that 5x5 map, not a GlobalAvgPool.
template <class L>
using Bnr = Sequential<L, BatchNorm2d, ReLU>;
template <int Out, int K = 3, int S = 1, int P = 1, int D = 1>
using Cnb = Conv2d<conv{.out = Out, .kernel = K, .stride = S, .padding = P, .dilation = D, .bias = false}>;
template <int P, int D>
using DwPD = DepthwiseConv2d<conv{.kernel = 3, .padding = P, .dilation = D, .bias = false}>;
using PaddedS7Late = Network<Input<3, 32, 32>,
    Block<"C1", Bnr<Cnb<16>>, Bnr<Cnb<16, 1, 1, 1>>, Bnr<Cnb<24, 3, 2>>>,
    Block<"C2", Bnr<DwPD<1, 1>>, Bnr<Cnb<32, 1, 1, 0>>, Bnr<Cnb<32, 3, 2>>>,
    Block<"C3", Bnr<DwPD<2, 2>>, Bnr<Cnb<48, 1, 1, 0>>, Bnr<Cnb<48, 3, 2>>>,
    Block<"C4", Bnr<DwPD<2, 2>>, Bnr<Cnb<64, 1, 1, 0>>>,
    Block<"O", AvgPool2d<pool{.kernel = 5}>, Conv2d<conv{.out = 10, .kernel = 1}>, Flatten, LogSoftmax>>;

TEST(RuleSets, PaddedPointwiseAndFullWindowAvgPoolHeadPassS7Late) {
  static_assert(check<PaddedS7Late, staticnet::exercises::S7Late>);
  EXPECT_TRUE((satisfies<PaddedS7Late, staticnet::exercises::S7Late>));
  EXPECT_EQ((layer<PaddedS7Late, 4>.out), (shape{16, 34, 34}));  // the padded 1x1 conv
  EXPECT_EQ((layer<PaddedS7Late, 34>.in), (shape{64, 5, 5}));    // AvgPool2d(5): global pooling
  EXPECT_TRUE((layer<PaddedS7Late, 34>.f.global_pool));
  // the pool's 5x5 window is not counted: 69, not 69 + 4 * 8
  EXPECT_EQ(receptive_field<PaddedS7Late>, 69);
  expect_verdict<rules::GapToClasses<10>, PaddedS7Late>(0, 1, __LINE__);
  expect_verdict<rules::NoStridedPool, PaddedS7Late>(0, 0, __LINE__);
  expect_verdict<rules::MaxStridedConvs<3>, PaddedS7Late>(0, 3, __LINE__);
  expect_verdict<rules::MinSeparableConvs<2>, PaddedS7Late>(0, 3, __LINE__);
  expect_verdict<rules::ParamsBelow<100'000>, PaddedS7Late>(0, 41'826, __LINE__);
}

TEST(RuleSets, S7DilatedReferenceSatisfiesS7Dilated) {
  static_assert(check<S7DilatedReference, staticnet::exercises::S7Dilated>);
  EXPECT_TRUE((satisfies<S7DilatedReference, staticnet::exercises::S7Dilated>));
  // and not S7-late: only three C blocks, RF 21 <= 52
  EXPECT_FALSE((satisfies<S7DilatedReference, staticnet::exercises::S7Late>));
  expect_verdict<rules::ConvBlocks<4>, S7DilatedReference>(1, 4, __LINE__);
}

}  // namespace
