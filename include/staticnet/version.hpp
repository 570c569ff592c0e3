// staticnet/version.hpp
#pragma once
#define STATICNET_VERSION_MAJOR 0
#define STATICNET_VERSION_MINOR 1
#define STATICNET_VERSION_PATCH 0
#define STATICNET_VERSION "0.1.0"
