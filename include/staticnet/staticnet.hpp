// staticnet/staticnet.hpp: the umbrella header — everything staticnet offers.
//
//   core.hpp            networks as types: layers, topology, facts, rules, summary
//                       (the compile-time part alone: no engine dependencies)
//   engine/all.hpp      what every backend shares: memory plan, fusion plan,
//                       tensor names, initialisation, the engine concept
//   cpu/all.hpp         the CPU engine: cpu::Model<Net, MaxBatch> and its kernels
//                       (with compiled kernels, STATICNET_COMPILED_KERNELS: the
//                       Model and cpu/kernels.hpp only; the kernels are not compiled here)
//   train/all.hpp       optimizers, schedules, checkpoints, fit() and evaluate()
//   io/all.hpp          JSON and safetensors files
//   data/all.hpp        CIFAR-10 and IDX readers, statistics, the batch loader
//   augment/all.hpp     albumentations-style augmentation
//   report/all.hpp      curves, image grids, confusion matrices (PNG, via cairo):
//                       included when STATICNET_WITH_CAIRO is defined non-zero
//                       (the CMake target defines it when cairo is found)
//
// Every folder's umbrella is <folder>/all.hpp; every header compiles on its own.
#pragma once
#include "core.hpp"
#include "engine/all.hpp"
#if defined(STATICNET_COMPILED_KERNELS) && STATICNET_COMPILED_KERNELS
#include "cpu/kernels.hpp"  // the kernels come compiled, from libstaticnet
#include "cpu/model.hpp"
#include "cpu/parallel.hpp"
#else
#include "cpu/all.hpp"
#endif
#include "train/all.hpp"
#include "inference/all.hpp"
#include "io/all.hpp"
#include "data/all.hpp"
#include "augment/all.hpp"
#include "report/confusion_text.hpp"
#include "report/records.hpp"
#if STATICNET_WITH_CAIRO
#include "report/all.hpp"
#endif
