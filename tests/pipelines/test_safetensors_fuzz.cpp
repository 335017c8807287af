// Fuzz: thousands of mutated copies of a valid file (bit flips, truncations, length-prefix edits,
// header text edits, random bytes; fixed seed). Each must load cleanly or throw SafetensorsError;
// a crash, a hang or another exception type fails the test.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "common/files.h"
#include "common/temp_dir.h"
#include "sagegen/io/safetensors.h"

namespace sagegen::io {
namespace {

namespace fs = std::filesystem;

using sagegen::testing::remove_tree;

constexpr int kMutations = 5000;
constexpr std::uint32_t kSeed = 20261125;

using sagegen::testing::read_bytes;
using sagegen::testing::write_bytes;

class Mutator {
 public:
  Mutator(std::string original, std::size_t header_end)
      : original_(std::move(original)), header_end_(header_end), rng_(kSeed) {}

  std::string next() {
    std::string bytes = original_;
    switch (pick(7)) {
      case 0:  // flip 1-8 bits anywhere
        for (int i = 0, n = 1 + pick(8); i < n; ++i) bytes[pick(bytes.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1:  // truncate
        bytes.resize(pick(bytes.size()));
        break;
      case 2: {  // rewrite the length prefix: near the truth, or anything
        std::uint64_t length = header_end_ - 8;
        length = pick(2) == 0 ? length + static_cast<std::uint64_t>(pick(33)) - 16 : wide();
        for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
        break;
      }
      case 3:  // replace a header byte with a JSON-significant character or a digit
        bytes[8 + pick(header_end_ - 8)] = "{}[]\":,0123456789-.e \x00\xff"[pick(24)];
        break;
      case 4: {  // replace a number in the header with another
        const std::size_t digit = bytes.find_first_of("0123456789", 8 + pick(header_end_ - 8));
        if (digit < header_end_) bytes.replace(digit, 1, std::to_string(wide() >> pick(64)));
        break;
      }
      case 5:  // delete or duplicate a stretch of the header
        if (pick(2) == 0) {
          bytes.erase(8 + pick(header_end_ - 8), 1 + pick(8));
        } else {
          const std::size_t at = 8 + pick(header_end_ - 8);
          bytes.insert(at, bytes.substr(at, 1 + pick(8)));
        }
        break;
      default: {  // random bytes of a random length, sometimes behind a valid prefix
        std::string random(pick(200), '\0');
        for (char& c : random) c = static_cast<char>(pick(256));
        bytes = pick(2) == 0 ? random : bytes.substr(0, header_end_) + random;
      }
    }
    return bytes;
  }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  std::uint64_t wide() { return (static_cast<std::uint64_t>(rng_()) << 32) | rng_(); }

  std::string original_;
  std::size_t header_end_;
  std::mt19937 rng_;
};

TEST(SafetensorsFuzz, MutatedFilesLoadOrThrowCleanly) {
  const fs::path dir = fs::temp_directory_path() / ("sagegen_safetensors_fuzz_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path original_path = dir / "original.safetensors";
  at::manual_seed(3);
  const NamedTensors tensors = {
      {"blocks.0.attn.to_q.weight", at::randn({4, 4})},
      {"blocks.0.norm.bias", at::randn({4}).to(at::kHalf)},
      {"embed.weight", at::randn({3, 2}).to(at::kBFloat16)},
      {"quant.codes", at::randint(-100, 100, {5}, at::kChar)},
      {"quant.mask", at::randint(0, 255, {6}, at::kByte)},
  };
  save_safetensors(original_path, tensors, {{"model", "fuzz"}});
  const std::string original = read_bytes(original_path);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<unsigned char>(original[i]);

  Mutator mutator(original, 8 + header_length);
  const fs::path path = dir / "mutated.safetensors";
  int loaded = 0, rejected = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMutations; ++i) {
    // Unlink first: ext4 flushes a file truncated and rewritten in place (auto_da_alloc), which
    // made this loop disk-bound.
    fs::remove(path);
    write_bytes(path, mutator.next());
    const ReadMode mode = i % 2 == 0 ? ReadMode::kMmap : ReadMode::kStream;
    try {
      const SafetensorsFile file = SafetensorsFile::open(path, mode);
      for (const auto& [name, tensor] : file.read_all()) {
        const TensorInfo* info = file.find(name);
        ASSERT_NE(info, nullptr);
        ASSERT_EQ(static_cast<std::uint64_t>(tensor.nbytes()), info->end - info->begin) << name;
      }
      NamedTensors targets;
      for (const auto& [name, tensor] : tensors) targets.emplace(name, at::zeros_like(tensor));
      load_into(targets, path, {DTypeConversion::kConvert, ExtraTensors::kReject, mode});
      ++loaded;
    } catch (const SafetensorsError&) {
      ++rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "mutation " << i << ": exception other than SafetensorsError: " << e.what();
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz: %d mutations, %d loaded, %d rejected, %.2f s\n", kMutations, loaded, rejected, seconds);
  EXPECT_EQ(loaded + rejected, kMutations);
  EXPECT_GT(loaded, 0);    // flips in the data buffer leave a valid file
  EXPECT_GT(rejected, kMutations / 4);
  remove_tree(dir);
}

}  // namespace
}  // namespace sagegen::io
