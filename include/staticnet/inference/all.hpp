// staticnet/inference/all.hpp: inference for C++ applications: the
// inference-only memory plan (engine/inference_plan.hpp) and the Predictor,
// which loads a checkpoint and classifies images.
#pragma once
#include "../engine/inference_plan.hpp"
#include "predictor.hpp"
