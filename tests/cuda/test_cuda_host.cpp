// The GPU engine without a device (runs in CI): cuda::Model is an `engine`
// with the shared engine layer's plans, and on a machine without a GPU its
// constructor throws cuda::error saying why, before it creates any stream or
// handle (with a GPU, it constructs).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <staticnet/cpu/model.hpp>
#include <staticnet/cuda/model.hpp>

#include "networks.hpp"

namespace sn = staticnet;
using S7 = assignments::S7DilatedReference;
using G = sn::cuda::Model<S7, 64>;

static_assert(sn::engine<G>);
static_assert(sn::engine<sn::cuda::Model<assignments::S9Reference, 512>>);
// The same memory plan and tensor layout as the CPU engine: checkpoints and
// optimizer state move between them.
static_assert(G::exec.params == sn::cpu::Model<S7, 64>::exec.params);
static_assert(G::state_floats == sn::cpu::Model<S7, 64>::state_floats);
static_assert(G::ends_with_log_softmax == sn::cpu::Model<S7, 64>::ends_with_log_softmax);
// Its fusions: ReLU into the conv before it and into the BatchNorm before it, nothing folded.
static_assert(G::fusion.foldable_pairs == 0);

TEST(CudaModelHost, FusionsAreTheDeclaredOnes) {
  int relu_into_conv = 0, relu_after_bn = 0;
  for (std::size_t i = 0; i < G::op_count; ++i) {
    relu_into_conv += G::fusion.relu_into_conv[i];
    relu_after_bn += G::fusion.relu_after_bn[i];
    EXPECT_FALSE(G::fusion.relu_into_bn[i]);
    EXPECT_FALSE(G::fusion.bn_stats_ready[i]);
  }
  EXPECT_GT(relu_into_conv + relu_after_bn, 0);
}

TEST(CudaModelHost, WithoutADeviceTheConstructorSaysWhy) {
  if (sn::cuda::device_count() > 0) {
    EXPECT_NO_THROW(std::make_unique<G>(1));
    return;
  }
  try {
    auto m = std::make_unique<G>(1);
    FAIL() << "cuda::Model constructed without a device";
  } catch (const sn::cuda::error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cuda::Model needs a CUDA device"), std::string::npos) << what;
  }
}
