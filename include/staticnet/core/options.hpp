// staticnet/core/options.hpp: layer options as class-type template arguments.
//
// Write them with designated initialisers and name the type, e.g.
//   Conv2d<conv{.out = 64, .kernel = 3, .padding = 1}>
// (clang 14 and nvcc 13 reject a bare braced list as a template argument).
// Fields must be given in declaration order, as C++ requires.
#pragma once
#include <cstdint>

namespace staticnet {

/// How the CPU engine computes a Conv2d (the GPU engine leaves it to cuDNN):
///   automatic   Winograd F(2x2,3x3) or F(4x4,3x3) where the layer's shape
///               makes it pay (3x3, stride 1, groups 1, any dilation, >= 16
///               input and output channels, fewer operations by the cost
///               model of core/winograd.hpp), else the direct convolution;
///   direct      always the direct (im2col-GEMM) convolution;
///   winograd_f2 / winograd_f4  force that Winograd variant (a compile error,
///               E_WINOGRAD, where the layer is not 3x3 / stride 1 / groups 1).
/// `sn::cpu::use_winograd(false)` (or STATICNET_WINOGRAD=0 in the environment)
/// turns every Winograd layer of the process back to the direct path.
enum class conv_algo : std::uint8_t { automatic, direct, winograd_f2, winograd_f4 };

/// Options of Conv2d / DepthwiseConv2d. Defaults follow torch.nn.Conv2d.
/// The *_h / *_w fields override the square value for one axis
/// (0, or -1 for padding, means "use the square value").
struct conv {
  int out = 0;        ///< output channels (DepthwiseConv2d: 0 = as many as its input)
  int kernel = 3;     ///< square kernel size
  int stride = 1;
  int padding = 0;    ///< zero padding on each side
  int dilation = 1;
  int groups = 1;     ///< ignored by DepthwiseConv2d (always its input channels)
  bool bias = true;
  int kernel_h = 0, kernel_w = 0;
  int stride_h = 0, stride_w = 0;
  int padding_h = -1, padding_w = -1;
  int dilation_h = 0, dilation_w = 0;
  conv_algo algo = conv_algo::automatic;  ///< CPU algorithm (see conv_algo)

  friend constexpr bool operator==(const conv&, const conv&) = default;
};

/// Options of SeparableConv2d: a depthwise conv followed by a 1x1 conv.
struct sep {
  int out = 0;  ///< output channels of the pointwise conv
  int kernel = 3;
  int stride = 1;
  int padding = 0;
  int dilation = 1;
  bool depthwise_bias = false;
  bool bias = true;  ///< bias of the pointwise conv
};

/// Options of MaxPool2d / AvgPool2d. Defaults follow torch.nn (stride 0 = kernel).
struct pool {
  int kernel = 2;
  int stride = 0;
  int padding = 0;
  int dilation = 1;  ///< MaxPool2d only
  bool ceil_mode = false;
  bool count_include_pad = true;  ///< AvgPool2d only

  friend constexpr bool operator==(const pool&, const pool&) = default;
};

/// Options of ZeroPad2d: the zeros added on each side, in PyTorch's order
/// (nn.ZeroPad2d((left, right, top, bottom))). A negative value crops, as in
/// PyTorch. `ZeroPad2d<1>` is the uniform form (nn.ZeroPad2d(1)).
struct pad {
  int left = 0;
  int right = 0;
  int top = 0;
  int bottom = 0;

  friend constexpr bool operator==(const pad&, const pad&) = default;
};

/// Options of Linear.
struct linear {
  int out = 0;
  bool bias = true;
};

/// A probability as a template argument (clang 14 has no floating-point
/// template arguments): `Dropout<p(0.1)>`. Stored in parts per million.
struct probability {
  std::int32_t ppm = 500000;
  [[nodiscard]] constexpr double value() const noexcept { return ppm / 1e6; }
  friend constexpr bool operator==(const probability&, const probability&) = default;
};

/// `p(0.25)` makes a probability at compile time (rounded to 1e-6).
[[nodiscard]] consteval probability p(double v) {
  return probability{static_cast<std::int32_t>(v * 1e6 + (v >= 0 ? 0.5 : -0.5))};
}

}  // namespace staticnet
