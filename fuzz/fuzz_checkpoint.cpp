// libFuzzer target: the whole checkpoint loader into a small model (names,
// shapes, fingerprint, BatchNorm settings, dropout state), then the optimizer
// state (SGD and Adam) and a schedule's state from the same file.
#include <memory>

#include <staticnet/cpu/model.hpp>
#include <staticnet/train/checkpoint.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/train/optimizer_state.hpp>
#include <staticnet/train/schedule.hpp>
#include <staticnet/train/trainer.hpp>

#include "fuzz_network.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sn = staticnet;
  static const auto path = fuzz::scratch("ckpt.safetensors");
  static auto model = std::make_unique<sn::Model<fuzz::Net, 2>>(1);
  fuzz::write(path, data, size);
  try {
    const sn::checkpoint_info info = sn::load_checkpoint(path, *model);
    sn::SGD sgd(*model, {.lr = 0.1f, .momentum = 0.9f});
    sn::Adam adam(*model, {.lr = 1e-3, .amsgrad = true});
    try {
      sn::restore_optimizer_state(info, *model, sgd);
    } catch (const std::runtime_error&) {
    }
    try {
      sn::restore_optimizer_state(info, *model, adam);
    } catch (const std::runtime_error&) {
    }
    sn::StepLR sched(sgd, {.step_size = 2});
    try {
      sn::trainer_detail::load_schedule(info, sched, path);
      sched.step();
    } catch (const std::runtime_error&) {
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
