// staticnet/train/all.hpp: training: optimizers (SGD, Adam, AdamW), learning
// rate schedules, checkpoints and optimizer state, PyTorch export and import,
// the progress bar, fit() and evaluate().
#pragma once
#include "optim.hpp"
#include "schedule.hpp"
#include "checkpoint.hpp"
#include "optimizer_state.hpp"
#include "pytorch.hpp"
#include "progress.hpp"
#include "trainer.hpp"
