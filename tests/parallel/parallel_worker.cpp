// One rank of the sequence-parallel tests (test_parallel.cpp starts N of these with RANK,
// WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, as a launcher would).
//   sagegen_parallel_worker layout LENGTH HEADS
//       Ulysses all-to-alls with an attention stand-in, checked on every rank against the unsplit
//       tensors, and the gather round trip. Exit 0 when exact.
//   sagegen_parallel_worker model HEADS JOINT FRAMES HEIGHT WIDTH VARIANT OUT [die|hang RANK]
//       The tiny DiT's forward split over the ranks; rank 0 alone writes the output (raw
//       float32) to OUT. With `die R` rank R exits right after joining the group, with `hang R`
//       it sleeps instead: the others must fail with an error and OUT must not appear.
//   sagegen_parallel_worker cfg HEADS FRAMES HEIGHT WIDTH OUT
//       The tiny DiT's CFG batch [x, x] with the cond and uncond texts, as Pipeline's
//       velocity runs it: split over two halves of the ranks (parallel/cfg_parallel.h) when the
//       rank count is even and SAGEGEN_CFG_PARALLEL is not off, else batched with Ulysses over
//       all ranks. Every rank writes its [2, ...] output to OUT.rank<r> and says on stderr
//       "cfg split: on|off".
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "sagegen/attention_context.h"
#include "sagegen/parallel/cfg_parallel.h"
#include "sagegen/parallel/process_group.h"
#include "sagegen/parallel/ulysses.h"
#include "tiny_dit.h"

namespace {

using namespace sagegen;

// Deterministic full tensors every rank can build: [B, L, H, D] from a seed.
at::Tensor full_tensor(std::int64_t length, int heads, std::uint64_t seed) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return at::randn({2, length, heads, 8}, generator);
}

int run_layout(parallel::ProcessGroup& group, std::int64_t length, int heads) {
  const at::Tensor q = full_tensor(length, heads, 1), k = full_tensor(length, heads, 2),
                   v = full_tensor(length, heads, 3);
  parallel::UlyssesAttention ulysses(group, length);
  const parallel::HeadShare share = parallel::plan_head_share(heads, group.rank(), group.size());
  bool inputs_exact = true;
  const at::Tensor out = ulysses.attend(
      ulysses.take(q), ulysses.take(k), ulysses.take(v),
      [&](const at::Tensor& q_, const at::Tensor& k_, const at::Tensor& v_) {
        const auto mine = [&](const at::Tensor& t) {
          return t.slice(2, share.begin(), share.begin() + share.real_heads());
        };
        inputs_exact = inputs_exact && q_.is_contiguous() && at::equal(q_, mine(q)) &&
                       at::equal(k_, mine(k)) && at::equal(v_, mine(v));
        return q_ + 2 * k_ - v_;  // elementwise: the expected output is easy to state
      });
  const at::Tensor expected = ulysses.take(q + 2 * k - v);
  const bool out_exact = at::equal(out, expected);
  const bool gather_exact = at::equal(ulysses.gather(ulysses.take(q)), q);
  if (!inputs_exact || !out_exact || !gather_exact) {
    std::fprintf(stderr, "rank %d: layout mismatch (inputs %d, output %d, gather %d)\n",
                 group.rank(), inputs_exact, out_exact, gather_exact);
    return 1;
  }
  return 0;
}

int run_model(parallel::ProcessGroup& group, int argc, char** argv) {
  const int heads = std::stoi(argv[2]);
  const bool joint = std::stoi(argv[3]) != 0;
  const DitConfig config = testing::tiny_parallel_dit(heads, joint);
  const auto dit = testing::tiny_random_dit(config);
  const testing::TinyDitInputs in =
      testing::tiny_dit_inputs(config, std::stoi(argv[4]), std::stoi(argv[5]), std::stoi(argv[6]));
  AttentionContext attention(config.depth * 2);
  attention.use_override(sageattn::parse_variant(argv[7]).value());
  const std::string out_path = argv[8];
  if (argc > 10 && std::stoi(argv[10]) == group.rank()) {
    if (std::string(argv[9]) == "die") _exit(3);
    std::this_thread::sleep_for(std::chrono::hours(1));  // "hang": the test kills it
  }
  dit->use_sequence_parallel(std::shared_ptr<parallel::ProcessGroup>(&group, [](auto*) {}));
  const at::Tensor out = dit->forward(in.x, in.timestep, in.text, attention).contiguous();
  if (group.rank() == 0) {
    std::ofstream file(out_path, std::ios::binary);
    file.write(static_cast<const char*>(out.data_ptr()), out.numel() * sizeof(float));
  }
  return 0;
}

int run_cfg(parallel::ProcessGroup& group, char** argv) {
  const DitConfig config = testing::tiny_parallel_dit(std::stoi(argv[2]), false);
  const auto dit = testing::tiny_random_dit(config);
  const testing::TinyDitInputs in =
      testing::tiny_dit_inputs(config, std::stoi(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]));
  const at::Tensor x = in.x.slice(0, 0, 1);  // one latent, as in sampling
  AttentionContext attention(config.depth * 2);
  attention.use_override(sageattn::Variant::kFp16);
  const auto world = std::shared_ptr<parallel::ProcessGroup>(&group, [](auto*) {});
  const auto split = parallel::CfgParallel::create(group, parallel::cfg_parallel_mode_from_env());
  std::fprintf(stderr, "cfg split: %s\n", split ? "on" : "off");
  at::Tensor out;
  if (split) {
    dit->use_sequence_parallel(split->branch_group());
    out = split->run([&](int branch) {
      return dit->forward(x, in.timestep.slice(0, branch, branch + 1),
                          in.text.slice(0, branch, branch + 1), attention);
    });
  } else {
    dit->use_sequence_parallel(world);
    out = dit->forward(at::cat({x, x}), in.timestep, in.text, attention);
  }
  out = out.contiguous();
  std::ofstream file(std::string(argv[6]) + ".rank" + std::to_string(group.rank()),
                     std::ios::binary);
  file.write(static_cast<const char*>(out.data_ptr()), out.numel() * sizeof(float));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  at::set_num_threads(1);
  c10::InferenceMode inference;
  const std::string scenario = argc > 1 ? argv[1] : "";
  if (!((scenario == "layout" && argc == 4) || (scenario == "cfg" && argc == 7) ||
        (scenario == "model" && (argc == 9 || argc == 11)))) {
    std::fprintf(stderr, "usage: see the top of parallel_worker.cpp\n");
    return 2;
  }
  try {
    const auto env = parallel::launch_environment_from_env();
    if (!env) {
      std::fprintf(stderr, "WORLD_SIZE is not set\n");
      return 2;
    }
    auto group = parallel::ProcessGroup::connect(*env, at::Device(at::kCPU),
                                                 parallel::collective_timeout_from_env());
    if (scenario == "cfg") return run_cfg(*group, argv);
    return scenario == "layout" ? run_layout(*group, std::stoll(argv[2]), std::stoi(argv[3]))
                                : run_model(*group, argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
