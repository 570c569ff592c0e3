// staticnet/cpu/all.hpp: the CPU engine (cpu::Model) and its kernels (all of
// them inline, for this translation unit's flags: include cpu/model.hpp and
// cpu/kernels.hpp alone to use the compiled ones without compiling them).
#pragma once
#include "config.hpp"
#include "parallel.hpp"
#include "simd.hpp"
#include "gemm.hpp"
#include "conv.hpp"
#include "activation.hpp"
#include "batchnorm.hpp"
#include "pooling.hpp"
#include "linear.hpp"
#include "concat.hpp"
#include "pad.hpp"
#include "loss.hpp"
#include "sgd.hpp"
#include "adam.hpp"
#include "kernel_types.hpp"
#include "kernel_table.hpp"
#include "kernel_table_of.hpp"
#include "kernels.hpp"
#include "model.hpp"
