// cuDNN's graph API without a device: for every convolution of the five
// assignment networks and each pass (forward, backward-data, backward-filter),
// the tensor, convolution and operation descriptors and the operation graph
// are built and finalised, and at least one of cuDNN's engines accepts the
// graph. That is as far as cuDNN 9.19 goes without a device (heuristic
// results, engine configurations and execution plans need its properties:
// cudnn_graph.hpp, conv_candidates); tests/cuda/test_cuda_model.cpp builds and
// runs the plans on a device. Also: errors name the call and cuDNN's reason.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <staticnet/cuda/cudnn_graph.hpp>
#include <staticnet/cuda/device.hpp>
#include <staticnet/engine/geometry.hpp>
#include <staticnet/network.hpp>

#include "networks.hpp"

namespace sn = staticnet;
namespace cudnn = sn::cuda::cudnn;

namespace {

struct tally {
  int convs = 0, graphs = 0;
};

template <class Net>
tally check_network(const char* name, int n) {
  tally t;
  for (const auto& r : Net::plan.rows) {
    if (r.desc.kind != sn::op_kind::conv) continue;
    ++t.convs;
    const sn::cpu::conv_geom g = sn::detail::conv_geometry(r);
    for (auto pass : {cudnn::conv_pass::forward, cudnn::conv_pass::backward_data, cudnn::conv_pass::backward_filter})
    {
      SCOPED_TRACE(std::string(name) + " layer " + std::to_string(r.number) + " " + cudnn::pass_name(pass));
      cudnn::conv_candidates_result c = cudnn::conv_candidates(g, n, pass);
      EXPECT_TRUE(c.graph.graph);
      EXPECT_GE(c.engines.size(), 1u) << g.c_in << "x" << g.h_in << "x" << g.w_in << " -> " << g.c_out << "x"
                                      << g.h_out << "x" << g.w_out << " groups " << g.groups;
      ++t.graphs;
    }
  }
  std::printf("%s (batch %d): %d convs, %d operation graphs finalised, each accepted by an engine\n", name, n,
              t.convs, t.graphs);
  return t;
}

TEST(CudnnGraph, EveryConvOfTheAssignmentNetworks) {
  int convs = 0;
  for (int n : {1, 128}) {
    convs += check_network<assignments::S9Reference>("S9", n).convs;
    convs += check_network<assignments::S7DilatedReference>("S7-dilated", n).convs;
    convs += check_network<assignments::S7LateNet>("S7-late", n).convs;
    convs += check_network<assignments::S7GroupsNet>("S7-groups", n).convs;
    convs += check_network<assignments::S7TransitionNet>("S7-transition", n).convs;
  }
  EXPECT_GT(convs, 40);
}

TEST(CudnnGraph, StridedGroupedDilatedConvs) {
  // c_in, h, w, c_out, h_out, w_out, kh, kw, sh, sw, ph, pw, dh, dw, groups
  const sn::cpu::conv_geom cases[] = {
      {16, 32, 32, 32, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1},    // strided
      {16, 32, 32, 32, 32, 32, 3, 3, 1, 1, 2, 2, 2, 2, 4},    // grouped, dilated
      {32, 16, 16, 32, 16, 16, 3, 3, 1, 1, 4, 4, 4, 4, 32},   // dilated depthwise
      {8, 10, 10, 12, 12, 12, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // 1x1 with padding (PyTorch allows it)
  };
  for (const auto& g : cases)
    for (auto pass : {cudnn::conv_pass::forward, cudnn::conv_pass::backward_data, cudnn::conv_pass::backward_filter}) {
      SCOPED_TRACE(std::string(cudnn::pass_name(pass)) + " groups " + std::to_string(g.groups));
      EXPECT_GE(cudnn::conv_candidates(g, 64, pass).engines.size(), 1u);
    }
}

TEST(CudnnGraph, AnInconsistentGeometryIsRefusedNamingTheStep) {
  // An output size that does not follow from the input: cuDNN refuses the
  // operation, and the message says which descriptor and why.
  const sn::cpu::conv_geom bad{16, 32, 32, 32, 31, 31, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  try {
    (void)cudnn::make_conv_graph(bad, 8, cudnn::conv_pass::forward);
    FAIL() << "an inconsistent conv graph was accepted";
  } catch (const sn::cuda::error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("finalising the conv forward operation"), std::string::npos) << what;
    EXPECT_NE(what.find("CUDNN_STATUS_"), std::string::npos) << what;
  }
}

TEST(CudaDevice, DeviceCountIsAnAnswerNotAnError) {
  const int n = sn::cuda::device_count();
  EXPECT_GE(n, 0);
  if (n == 0) {
    EXPECT_FALSE(sn::cuda::no_device_reason().empty());
    try {
      sn::cuda::require_device("this test");
      FAIL() << "require_device passed without a device";
    } catch (const sn::cuda::error& e) {
      EXPECT_NE(std::string(e.what()).find("this test needs a CUDA device"), std::string::npos) << e.what();
    }
  } else {
    EXPECT_TRUE(sn::cuda::no_device_reason().empty());
  }
}

}  // namespace
