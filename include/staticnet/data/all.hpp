// staticnet/data/all.hpp: the whole data layer (datasets, CIFAR-10 and IDX
// loaders, channel statistics, transforms, the batch loader).
#pragma once
#include "bytes.hpp"
#include "cifar10.hpp"
#include "dataset.hpp"
#include "error.hpp"
#include "idx.hpp"
#include "loader.hpp"
#include "ndarray.hpp"
#include "stats.hpp"
#include "transform.hpp"
