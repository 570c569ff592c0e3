// The command line shared by the assignment programs.
#pragma once
#include <cstring>
#include <iostream>
#include <string_view>

#include <staticnet/staticnet.hpp>

namespace assignments {

inline void usage(std::string_view program, std::ostream& os) {
  os << "usage: " << program << " [--summary] [--help]\n"
     << "  --summary  print the model summary and the receptive-field table, then exit\n";
}

/// Runs an assignment program: prints its network's summary and RF table.
/// (Training arrives with the CPU engine and the trainer.)
template <class Net>
int run_program(int argc, char** argv, std::string_view title) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(argv[0], std::cout);
      return 0;
    }
    if (arg != "--summary") {
      std::cerr << argv[0] << ": unknown option '" << arg << "'\n";
      usage(argv[0], std::cerr);
      return 2;
    }
  }
  std::cout << title << "\n";
  staticnet::print_summary<Net>(std::cout);
  staticnet::print_receptive_field<Net>(std::cout);
  return 0;
}

}  // namespace assignments
