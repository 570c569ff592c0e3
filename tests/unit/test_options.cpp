// The assignment programs' command line (examples/assignments/program.hpp):
// values are parsed whole and checked, and every mistake gives exit code 2
// with a message, never a crash (fuzz/fuzz_options.cpp fuzzes the same parser).
#include <gtest/gtest.h>

#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "program.hpp"

namespace {

struct parsed {
  std::optional<int> rc;
  assignments::options o;
  std::string err;
};

parsed run(std::initializer_list<std::string> args) {
  std::vector<std::string> a{"prog"};
  a.insert(a.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  parsed p;
  std::ostringstream err, out;
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  p.rc = assignments::parse(static_cast<int>(a.size()), argv.data(), p.o);
  std::cerr.rdbuf(old_err);
  std::cout.rdbuf(old_out);
  p.err = err.str();
  return p;
}

TEST(Options, ValidCommandLines) {
  const auto p = run({"--epochs", "3", "--batch-size", "64", "--max-lr", "0.05", "--seed", "18446744073709551615",
                      "--train-files", "a.bin,b.bin", "--plain", "--threads", "2"});
  EXPECT_FALSE(p.rc.has_value()) << p.err;
  EXPECT_EQ(p.o.epochs, 3);
  EXPECT_EQ(p.o.batch_size, 64);
  EXPECT_DOUBLE_EQ(p.o.max_lr, 0.05);
  EXPECT_EQ(p.o.seed, 18446744073709551615ull);
  ASSERT_EQ(p.o.train_files.size(), 2u);
  EXPECT_EQ(p.o.train_files[1], "b.bin");
  EXPECT_EQ(p.o.progress, 0);
  EXPECT_EQ(run({"--help"}).rc, 0);
}

TEST(Options, MistakesAreRefusedWithAMessage) {
  struct bad {
    std::initializer_list<std::string> args;
    const char* says;
  };
  for (const bad& b : {bad{{"--epochs", "12abc"}, "not an integer"}, bad{{"--epochs", ""}, "not an integer"},
                       bad{{"--seed", "-1"}, "not a non-negative integer"}, bad{{"--max-lr", "0.1x"}, "not a number"},
                       bad{{"--max-lr", "nan"}, "--max-lr finite > 0"}, bad{{"--max-lr", "inf"}, "--max-lr finite > 0"},
                       bad{{"--epochs", "0"}, "--epochs must be >= 1"}, bad{{"--batch-size", "129"}, "1..128"},
                       bad{{"--weight-decay", "-1"}, "--weight-decay finite >= 0"},
                       bad{{"--workers", "100000"}, "--workers in 1..256"}, bad{{"--threads", "-2"}, "--threads in 0..1024"},
                       bad{{"--epochs", "99999999999999999999"}, "not an integer"}, bad{{"--epochs"}, "needs a value"},
                       bad{{"--no-such-option"}, "unknown option"}}) {
    const auto p = run(b.args);
    EXPECT_EQ(p.rc, 2) << *b.args.begin();
    EXPECT_NE(p.err.find(b.says), std::string::npos) << p.err;
  }
}

}  // namespace
