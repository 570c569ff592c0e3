// staticnet/io/all.hpp: file formats: JSON and safetensors.
#pragma once
#include "json.hpp"
#include "safetensors.hpp"
