// staticnet/layers/all.hpp: the layer vocabulary (Conv2d, DepthwiseConv2d,
// BatchNorm2d, ReLU, Dropout, pools, Linear, Flatten, LogSoftmax, ZeroPad2d, Identity).
#pragma once
#include "activation.hpp"
#include "batchnorm.hpp"
#include "conv.hpp"
#include "dropout.hpp"
#include "linear.hpp"
#include "padding.hpp"
#include "pooling.hpp"
