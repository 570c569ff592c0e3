// The run-time API refuses bad input with a clear error instead of corrupting memory.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <staticnet/cpu/model.hpp>
#include <staticnet/staticnet.hpp>

namespace sn = staticnet;

namespace {
using Net = sn::Network<sn::Input<2, 4, 4>, sn::Conv2d<sn::conv{.out = 3, .kernel = 3, .padding = 1}>,
                        sn::GlobalAvgPool, sn::Flatten, sn::LogSoftmax>;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(ModelErrors, BatchLargerThanPlanned) {
  sn::Model<Net, 4> model;
  std::vector<float> x(5 * 32, 0.5f);
  const std::string msg = error_of([&] { model.forward(x, 5); });
  EXPECT_NE(msg.find("batch of 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MaxBatch = 4"), std::string::npos) << msg;
}

TEST(ModelErrors, WrongInputSize) {
  sn::Model<Net, 4> model;
  std::vector<float> x(2 * 32 - 1, 0.5f);
  const std::string msg = error_of([&] { model.forward(x, 2); });
  EXPECT_NE(msg.find("expected 2 x 32 input floats"), std::string::npos) << msg;
}

TEST(ModelErrors, SmallerBatchThanPlannedWorks) {
  sn::Model<Net, 4> model;
  std::vector<float> x(2 * 32, 0.5f);
  auto out = model.forward(x, 2);
  EXPECT_EQ(out.size(), 2u * 3u);
}

TEST(ModelErrors, BackwardWithoutTrainingForward) {
  sn::Model<Net, 4> model;
  model.eval();
  std::vector<float> x(32, 0.5f), d(3, 1.0f);
  model.forward(x, 1);
  EXPECT_NE(error_of([&] { model.backward(d); }).find("training mode"), std::string::npos);
}

TEST(ModelErrors, WrongGradientSizeAndTargets) {
  sn::Model<Net, 4> model;
  std::vector<float> x(2 * 32, 0.5f), d(5, 1.0f);
  model.forward(x, 2);
  EXPECT_NE(error_of([&] { model.backward(d); }).find("expected 2 x 3 gradient floats"), std::string::npos);
  std::vector<std::int32_t> targets{0, 7};
  EXPECT_NE(error_of([&] { model.forward_backward(x, targets, 2); }), "");  // class 7 of 3 is out of range
  std::vector<std::int32_t> short_targets{0};
  EXPECT_NE(error_of([&] { model.forward_backward(x, short_targets, 2); }).find("targets"), std::string::npos);
}

TEST(ModelErrors, NamesAndShapesFollowPyTorch) {
  sn::Model<Net, 4> model;
  auto tensors = model.named_tensors();
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0].name, "0.weight");
  EXPECT_EQ(tensors[0].shape, (std::vector<int>{3, 2, 3, 3}));
  EXPECT_EQ(tensors[1].name, "0.bias");
  EXPECT_EQ((sn::Model<Net, 4>::state_floats), 2 * sn::param_count<Net>);
}

TEST(ModelErrors, InitialisationIsSeededAndBounded) {
  sn::Model<Net, 4> a(7), b(7), c(8);
  const float bound = 1.0f / std::sqrt(2.0f * 9.0f);  // fan_in = 2 * 3 * 3
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    EXPECT_EQ(a.parameters()[i], b.parameters()[i]);
    EXPECT_LE(std::fabs(a.parameters()[i]), bound);
  }
  EXPECT_NE(a.parameters()[0], c.parameters()[0]);
}
