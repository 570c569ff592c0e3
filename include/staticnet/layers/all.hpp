// staticnet/layers/all.hpp: the layer vocabulary (Conv2d, DepthwiseConv2d,
// BatchNorm2d, ReLU, Dropout, pools, Linear, Flatten, LogSoftmax, ...).
#pragma once
#include "activation.hpp"
#include "batchnorm.hpp"
#include "conv.hpp"
#include "dropout.hpp"
#include "linear.hpp"
#include "pooling.hpp"
