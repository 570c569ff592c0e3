// Error reports: the plan's error fields and the type of Net::report for each
// kind of error (the report is only named here, never completed, so nothing
// fires), facts' types, and the verdicts check<> judges. What the compilers
// print, and how much, is checked by tests/compile_fail.
#include <gtest/gtest.h>

#include <type_traits>

#include "networks.hpp"
#include "test_support.hpp"

namespace {

using namespace staticnet;

template <int Out, int K = 3, int P = 1>
using C = Conv2d<conv{.out = Out, .kernel = K, .padding = P}>;

// ------------------------------------------------------------ reports ----

TEST(ErrorReport, ValidNetworksShareTheEmptyReport) {
  using Net = Network<Input<3, 8, 8>, C<4>, ReLU>;
  static_assert(std::is_same_v<Net::report, invalid_layer<0, void, error::none, void>>);
  static_assert(Net::plan.err == error::none && Net::plan.err_row == -1 && Net::plan.err_layer == 0);
  static_assert(std::is_same_v<Network<Input<1, 4, 4>, ReLU>::report, Net::report>);
  EXPECT_EQ(Net::plan.err, error::none);
}

TEST(ErrorReport, LayerErrorNamesNumberTypeAndInput) {
  using Bad = Conv2d<conv{.out = 4, .groups = 2}>;
  using Net = Network<Input<3, 8, 8>, ReLU, Bad, C<8>>;
  static_assert(std::is_same_v<Net::report, invalid_layer<2, Bad, error::groups_in, input<3, 8, 8>>>);
  static_assert(Net::plan.err_row == 1 && Net::plan.err_in == shape{3, 8, 8});
  using Flat = Network<Input<3, 4, 4>, Flatten, BatchNorm2d>;
  static_assert(
      std::is_same_v<Flat::report, invalid_layer<2, BatchNorm2d, error::spatial_on_flat, input<48>>>);
  EXPECT_EQ(Net::plan.err_layer, 2);
}

TEST(ErrorReport, OnlyTheFirstErrorIsReported) {
  using Net = Network<Input<3, 8, 8>, C<4, 11>, Linear<linear{}>, Conv2d<conv{.kernel = 3}>>;
  static_assert(Net::plan.err == error::nonpositive_output);
  static_assert(
      std::is_same_v<Net::report, invalid_layer<1, C<4, 11>, error::nonpositive_output, input<3, 8, 8>>>);
  EXPECT_EQ(Net::plan.err_layer, 1);
}

TEST(ErrorReport, AddShapesOfBothBranches) {
  // The example: 64 and 128 channels at 16 x 16 after a stride-2 1x1 conv.
  using Net = Network<Input<32, 32, 32>, Add<Conv2d<conv{.out = 64, .kernel = 1, .stride = 2}>,
                                             Conv2d<conv{.out = 128, .kernel = 1, .stride = 2}>>>;
  static_assert(
      std::is_same_v<Net::report,
                     invalid_layer<2, Add<branch<1>::gives<64, 16, 16>, branch<2>::gives<128, 16, 16>>,
                                   error::add_shape_mismatch, input<32, 32, 32>>>);
  static_assert(Net::plan.err_first == shape{64, 16, 16} && Net::plan.err_other == shape{128, 16, 16});
  static_assert(Net::plan.err_branch == 2 && Net::plan.err_in == shape{32, 32, 32});
  EXPECT_EQ(Net::plan.err_branch, 2);
}

TEST(ErrorReport, AddNamesTheFirstDisagreeingBranch) {
  // Branches 1 and 2 agree (identity and a padded 3x3 conv to 3 channels); branch 3 gives 6 x 6.
  using Net = Network<Input<3, 8, 8>, Add<Sequential<>, C<3>, C<3, 3, 0>>>;
  static_assert(
      std::is_same_v<Net::report, invalid_layer<2, Add<branch<1>::gives<3, 8, 8>, branch<3>::gives<3, 6, 6>>,
                                                error::add_shape_mismatch, input<3, 8, 8>>>);
  EXPECT_EQ(Net::plan.err_branch, 3);
}

TEST(ErrorReport, ConcatShowsFlatAndSpatialOutputs) {
  using Spatial = Network<Input<3, 8, 8>, Concat<C<4>, C<4, 3, 0>>>;
  static_assert(std::is_same_v<Spatial::report,
                               invalid_layer<2, Concat<branch<1>::gives<4, 8, 8>, branch<2>::gives<4, 6, 6>>,
                                             error::concat_spatial_mismatch, input<3, 8, 8>>>);
  // The first branch's own output, not the channels concatenated so far.
  using Third = Network<Input<3, 8, 8>, Concat<C<4>, C<5>, C<6, 3, 0>>>;
  static_assert(std::is_same_v<Third::report,
                               invalid_layer<3, Concat<branch<1>::gives<4, 8, 8>, branch<3>::gives<6, 6, 6>>,
                                             error::concat_spatial_mismatch, input<3, 8, 8>>>);
  using Mixed = Network<Input<3, 1, 1>, Concat<Flatten, Sequential<>>>;
  static_assert(
      std::is_same_v<Mixed::report, invalid_layer<1, Concat<branch<1>::gives<3>, branch<2>::gives<3, 1, 1>>,
                                                  error::concat_spatial_mismatch, input<3, 1, 1>>>);
  EXPECT_EQ(Third::plan.err_first, (shape{4, 8, 8}));
}

// Errors in the network's types are reported through the plan as well, so that
// nothing fires while the Network is instantiated.
struct NotALayer {};

TEST(ErrorReport, TypeErrorsGoThroughThePlan) {
  using NonLayer = Network<Input<3, 8, 8>, ReLU, NotALayer, ReLU>;
  static_assert(
      std::is_same_v<NonLayer::report,
                     invalid_layer<2, detail::not_a_layer<NotALayer>, error::not_a_layer, input<3, 8, 8>>>);
  using Int = Network<Input<3, 8, 8>, Block<"C1", ReLU, int>>;
  static_assert(Int::plan.err == error::not_a_layer && Int::plan.err_layer == 2);
  using OneBranch = Network<Input<3, 8, 8>, ReLU, Add<ReLU>>;
  static_assert(std::is_same_v<OneBranch::report, invalid_layer<2, detail::too_few_branches<Add<ReLU>>,
                                                                error::branch_count, input<3, 8, 8>>>);
  using NoBranch = Network<Input<3, 8, 8>, Concat<>>;
  static_assert(NoBranch::plan.err == error::branch_count);
  using Unnamed = Network<Input<3, 8, 8>, ReLU, Block<"", ReLU>>;
  static_assert(
      std::is_same_v<Unnamed::report,
                     invalid_layer<1, detail::block_begin_op<"">, error::block_name, input<3, 8, 8>>>);
  EXPECT_EQ(NonLayer::plan.err, error::not_a_layer);
}

TEST(ErrorReport, NetworkErrorsHaveNoLayer) {
  using NoInput = Network<ReLU, ReLU>;
  static_assert(std::is_same_v<NoInput::report, invalid_layer<0, ReLU, error::network_input, void>>);
  using ZeroInput = Network<Input<0, 8, 8>, ReLU>;
  static_assert(
      std::is_same_v<ZeroInput::report, invalid_layer<0, Input<0, 8, 8>, error::input_nonpositive, void>>);
  using Empty = Network<Input<3, 8, 8>, Sequential<>>;
  static_assert(std::is_same_v<Empty::report, invalid_layer<0, Input<3, 8, 8>, error::empty_network, void>>);
  static_assert(Network<Input<3, 8, 8>>::plan.err == error::empty_network);
  EXPECT_EQ(ZeroInput::plan.err_row, -1);
}

template <int N>
struct deep {
  using type = Block<"B", typename deep<N - 1>::type>;
};
template <>
struct deep<0> {
  using type = ReLU;
};

TEST(ErrorReport, NestingNamesTheMarker) {
  // 33 blocks around a ReLU, after a ReLU: the 33rd block is one too many.
  using Deep = Network<Input<3, 8, 8>, ReLU, deep<33>::type>;
  static_assert(std::is_same_v<Deep::report, invalid_layer<1, detail::block_begin_op<"B">,
                                                           error::nesting_too_deep, input<3, 8, 8>>>);
  static_assert(Network<Input<3, 8, 8>, ReLU, deep<32>::type>::plan.err == error::none);
  EXPECT_EQ(Deep::plan.err_row, 33);
}

// ------------------------------------------------- facts and rules ----

TEST(ErrorFacts, FactsOfAnInvalidNetworkAreVoid) {
  static_assert(std::is_same_v<detail::fact_t<true, std::int64_t>, std::int64_t>);
  static_assert(std::is_void_v<detail::fact_t<false, std::int64_t>>);
  using Net = Network<Input<3, 8, 8>, C<4>, BatchNorm2d>;
  static_assert(std::is_same_v<decltype(param_count<Net>), const std::int64_t>);
  static_assert(std::is_same_v<decltype(layer<Net, 2>), const plan_row>);
  static_assert(std::is_same_v<decltype(check<Net, rules::ParamsBelow<1000>>), const bool>);
  EXPECT_EQ(param_count<Net>, 4 * 3 * 9 + 4 + 8);
}

TEST(ErrorRules, AllFlattensItsVerdicts) {
  using Net = Network<Input<3, 8, 8>, C<4>, GlobalAvgPool, PointwiseConv2d<10>, Flatten>;
  using Inner = rules::all<rules::ParamsBelow<10>, rules::NoMaxPool>;
  using Outer = rules::all<rules::GapToClasses<10>, Inner, rules::ParamsBelow<10>>;
  static_assert(Outer::leaves == 4);
  constexpr auto v = Outer::verdicts<Net>();
  static_assert(v.code[0] == 0 && v.code[1] == 1 && v.code[2] == 0 && v.code[3] == 1);
  static_assert(v.value[1] == param_count<Net> && v.value[3] == param_count<Net>);
  static_assert(Outer::offset_of<Inner>() == 1 && Outer::offset_of<rules::ParamsBelow<10>>() == 3);
  static_assert(v.part<1, 2>().code[0] == 1 && v.part<1, 2>().value[1] == 0);
  static_assert(!satisfies<Net, Outer> && satisfies<Net, rules::GapToClasses<10>, rules::NoMaxPool>);
  static_assert(
      check<Net, rules::all<rules::GapToClasses<10>, rules::all<rules::NoMaxPool>>, rules::NoStride>);
  static_assert(rules::all<rules::GapToClasses<10>, rules::NoStride>::check<Net>());
  EXPECT_EQ(v.value[1], 4 * 3 * 9 + 4 + 50);
}

}  // namespace
