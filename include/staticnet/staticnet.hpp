// staticnet/staticnet.hpp: the umbrella header — everything staticnet offers.
//
//   core.hpp            networks as types: layers, topology, facts, rules, summary
//   model.hpp           the CPU engine: Model<Net, MaxBatch> (forward, backward, losses)
//   optim.hpp           SGD, Adam, AdamW
//   schedule.hpp        OneCycleLR, StepLR, CosineAnnealingLR, ReduceLROnPlateau
//   checkpoint.hpp      safetensors checkpoints
//   data/all.hpp        CIFAR-10 and IDX readers, statistics, the batch loader
//   augment/augment.hpp albumentations-style augmentation
//   report.hpp          curves, image grids, confusion matrices (PNG, via cairo)
//   trainer.hpp         fit() and evaluate()
//
// Include core.hpp alone for the compile-time checks (faster to compile, and
// free of the engine's dependencies).
#pragma once
#include "core.hpp"
#include "model.hpp"
#include "optim.hpp"
#include "schedule.hpp"
#include "checkpoint.hpp"
#include "data/all.hpp"
#include "augment/augment.hpp"
#include "report.hpp"
#include "progress.hpp"
#include "trainer.hpp"
