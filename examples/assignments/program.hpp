// The command line shared by the assignment programs.
//   return assignments::run_program<Net>(argc, argv, "title");
//   return assignments::run_programs(argc, argv, assignments::entry<NetA>{"A"}, assignments::entry<NetB>{"B"});
#pragma once
#include <cstring>
#include <iostream>
#include <string_view>

#include <staticnet/staticnet.hpp>

namespace assignments {

inline void usage(std::string_view program, std::ostream& os) {
  os << "usage: " << program << " [--summary] [--help]\n"
     << "  --summary  print each network's model summary and receptive-field table, then exit\n";
}

/// Parses the command line: returns -1 to go on, or the exit code to return
/// now (0 after --help, 2 after an unknown option).
inline int parse_options(int argc, char** argv) {
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
  return -1;
}

/// One network of a program and the title printed above its summary.
template <staticnet::network Net>
struct entry {
  std::string_view title;
};

/// Prints one network's title, summary and RF table.
template <staticnet::network Net>
void print_network(std::ostream& os, std::string_view title) {
  os << title << "\n";
  staticnet::print_summary<Net>(os);
  staticnet::print_receptive_field<Net>(os);
}

/// Runs an assignment program over several networks: prints each one's
/// summary and RF table, in order, separated by a blank line.
/// (Training arrives with the CPU engine and the trainer.)
template <staticnet::network... Nets>
int run_programs(int argc, char** argv, entry<Nets>... entries) {
  static_assert(sizeof...(Nets) > 0, "run_programs needs at least one network");
  if (const int rc = parse_options(argc, argv); rc >= 0) return rc;
  bool first = true;
  (
      [&] {
        if (!first) std::cout << "\n";
        first = false;
        print_network<Nets>(std::cout, entries.title);
      }(),
      ...);
  return 0;
}

/// Runs an assignment program: prints its network's summary and RF table.
template <staticnet::network Net>
int run_program(int argc, char** argv, std::string_view title) {
  return run_programs(argc, argv, entry<Net>{title});
}

}  // namespace assignments
