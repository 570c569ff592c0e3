// The summary of an invalid network, asked for before any fact: it fails with the
// network's error (its note also names print_summary<Net>, whose argument is the network).
// expect: E_LINEAR_INPUT
// expect: invalid_layer<2, staticnet::Linear<
#include <iostream>
#include <staticnet/core.hpp>
#include <staticnet/summary.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::Linear<sn::linear{.out = 10}>>;
void print() { sn::print_summary<Net>(std::cout); }
