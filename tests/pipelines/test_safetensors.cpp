// Safetensors reader/writer: round trips per dtype and read mode, the canonical layout, load_into,
// and one test per corruption with the message checked for the file name and the tensor name.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/files.h"
#include "common/temp_dir.h"
#include "sagegen/io/safetensors.h"

namespace sagegen::io {
namespace {

namespace fs = std::filesystem;

using TestDir = sagegen::testing::TempDir;

using sagegen::testing::read_bytes;
using sagegen::testing::write_bytes;

// A file from a header text and raw data bytes, with the length prefix computed (or forced).
std::string make_file(const std::string& header, const std::string& data,
                      std::optional<std::uint64_t> forced_length = std::nullopt) {
  std::uint64_t length = forced_length.value_or(header.size());
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes += static_cast<char>((length >> (8 * i)) & 0xff);
  return bytes + header + data;
}

// Expects open() + read_all() of `bytes` to throw a SafetensorsError whose message contains the
// file name and every one of `fragments`; checks both read modes.
void expect_rejected(const std::string& bytes, const std::vector<std::string>& fragments) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "corrupt.safetensors";
  write_bytes(path, bytes);
  for (ReadMode mode : {ReadMode::kMmap, ReadMode::kStream}) {
    try {
      SafetensorsFile::open(path, mode).read_all();
      ADD_FAILURE() << "no error for the corrupt file, mode " << static_cast<int>(mode);
    } catch (const SafetensorsError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path.string()), std::string::npos) << message;
      for (const std::string& fragment : fragments) {
        EXPECT_NE(message.find(fragment), std::string::npos) << "'" << fragment << "' not in: " << message;
      }
    }
  }
}

at::Tensor sample(at::ScalarType type, std::vector<std::int64_t> shape) {
  at::Tensor values = at::randn(shape, at::TensorOptions().dtype(at::kFloat)) * 50;
  return values.to(type);
}

TEST(Safetensors, RoundTripEveryDtypeBothReadModes) {
  at::manual_seed(1);
  const TestDir scratch;
  const fs::path path = scratch.path() / "all.safetensors";
  NamedTensors tensors = {
      {"f32", sample(at::kFloat, {3, 5})},     {"f16", sample(at::kHalf, {7})},
      {"bf16", sample(at::kBFloat16, {2, 3, 4})}, {"i8", sample(at::kChar, {9})},
      {"u8", sample(at::kByte, {1, 13})},      {"scalar", sample(at::kFloat, {})},
      {"empty", sample(at::kFloat, {0, 4})},
  };
  save_safetensors(path, tensors, {{"format", "pt"}, {"model", "sagegen-tiny"}});
  for (ReadMode mode : {ReadMode::kMmap, ReadMode::kStream}) {
    const SafetensorsFile file = SafetensorsFile::open(path, mode);
    EXPECT_EQ(file.metadata().at("model"), "sagegen-tiny");
    ASSERT_EQ(file.tensors().size(), tensors.size());
    for (const auto& [name, expected] : tensors) {
      const at::Tensor actual = file.read(name);
      EXPECT_EQ(actual.scalar_type(), expected.scalar_type()) << name;
      EXPECT_EQ(actual.sizes(), expected.sizes()) << name;
      EXPECT_TRUE(at::equal(actual, expected)) << name;
    }
  }
}

TEST(Safetensors, CanonicalLayoutAlignedByDtypeThenNameSpacePadded) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "canonical.safetensors";
  save_safetensors(path, {{"zeta", at::ones({3}, at::kByte)},
                          {"alpha", at::ones({1}, at::kHalf)},
                          {"beta", at::ones({2}, at::kFloat)},
                          {"gamma", at::ones({1}, at::kFloat)}});
  const std::string bytes = read_bytes(path);
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ((8 + length) % 8, 0u);
  const std::string header = bytes.substr(8, length);
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));  // only spaces after the JSON
  EXPECT_EQ(bytes.size(), 8 + length + 8 + 4 + 2 + 3);
  // Widest dtype first (F32 by name, then F16, then U8), so every tensor is aligned.
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.find("beta")->begin, 0u);
  EXPECT_EQ(file.find("gamma")->begin, 8u);
  EXPECT_EQ(file.find("alpha")->begin, 12u);
  EXPECT_EQ(file.find("zeta")->begin, 14u);
  EXPECT_LT(header.find("\"beta\""), header.find("\"gamma\""));
  EXPECT_LT(header.find("\"gamma\""), header.find("\"alpha\""));
}

// Written by the reference implementation (Python safetensors 0.8.0, `safetensors.torch.save`) for
// the tensors built below; the data bytes are little-endian values.
const char kReferenceHeader[] =
    R"({"__metadata__":{"format":"pt"},"w.f32":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
    R"("w.bf16":{"dtype":"BF16","shape":[2,1],"data_offsets":[24,28]},"w.f16":{"dtype":"F16","shape":[3],)"
    R"("data_offsets":[28,34]},"w.i8":{"dtype":"I8","shape":[3],"data_offsets":[34,37]},"w.u8":{"dtype":"U8",)"
    R"("shape":[2],"data_offsets":[37,39]}})";
const std::string kReferenceData(
    "\x00\x00\x00\x00\x00\x00\x80\x3e\x00\x00\x00\x3f\x00\x00\x40\x3f\x00\x00\x80\x3f\x00\x00\xa0\x3f"
    "\x00\x3f\x40\xc0\x00\x3e\x00\xc0\xff\x7b\x80\x00\x7f\x00\xff",
    39);

NamedTensors reference_tensors() {
  return {
      {"w.f32", at::arange(6, at::kFloat).reshape({2, 3}) / 4},
      {"w.f16", at::tensor({1.5, -2.0, 65504.0}).to(at::kHalf)},
      {"w.bf16", at::tensor({0.5, -3.0}).reshape({2, 1}).to(at::kBFloat16)},
      {"w.i8", at::tensor({-128, 0, 127}).to(at::kChar)},
      {"w.u8", at::tensor({0, 255}).to(at::kByte)},
  };
}

TEST(Safetensors, ReadsWhatTheReferenceImplementationWrites) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "reference.safetensors";
  write_bytes(path, make_file(kReferenceHeader, kReferenceData));
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  for (const auto& [name, expected] : reference_tensors()) {
    const at::Tensor actual = file.read(name);
    EXPECT_EQ(actual.scalar_type(), expected.scalar_type()) << name;
    EXPECT_TRUE(at::equal(actual, expected)) << name << ": " << actual;
  }
}

TEST(Safetensors, WritesTheSameBytesAsTheReferenceImplementation) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "ours.safetensors";
  save_safetensors(path, reference_tensors(), {{"format", "pt"}});
  EXPECT_EQ(read_bytes(path), make_file(kReferenceHeader, kReferenceData));
}

TEST(Safetensors, WriterRejectsUnsupportedDtypeAndUnwritableDirectory) {
  const TestDir scratch;
  const fs::path dir = scratch.path();
  EXPECT_THROW(save_safetensors(dir / "f64.safetensors", {{"w", at::ones({2}, at::kDouble)}}),
               SafetensorsError);
  try {
    save_safetensors(dir / "no_such_dir" / "w.safetensors", {{"w", at::ones({2})}});
    ADD_FAILURE() << "no error";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_dir"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, LoadIntoFillsParametersThatRequireGrad) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "model.safetensors";
  const at::Tensor weight = at::arange(6, at::kFloat).reshape({2, 3});
  save_safetensors(path, {{"block.weight", weight}, {"block.bias", at::ones({3}, at::kHalf)}});
  at::Tensor target_weight = at::zeros({2, 3}).requires_grad_(true);
  at::Tensor target_bias = at::zeros({3}, at::kHalf);
  for (ReadMode mode : {ReadMode::kMmap, ReadMode::kStream}) {
    target_weight.detach().zero_();
    load_into({{"block.weight", target_weight}, {"block.bias", target_bias}}, path,
              {DTypeConversion::kReject, ExtraTensors::kReject, mode});
    EXPECT_TRUE(at::equal(target_weight.detach(), weight));
    EXPECT_TRUE(at::equal(target_bias, at::ones({3}, at::kHalf)));
  }
}

TEST(Safetensors, LoadIntoConvertsDtypeOnlyWhenAsked) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "half.safetensors";
  const at::Tensor half = at::tensor({1.5, -2.25, 3.0}).to(at::kHalf);
  save_safetensors(path, {{"w", half}});
  at::Tensor target = at::zeros({3}, at::kFloat);
  try {
    load_into({{"w", target}}, path);
    ADD_FAILURE() << "no error";
  } catch (const SafetensorsError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find("tensor 'w' is F16 in the file, the model expects F32"), std::string::npos)
        << message;
  }
  EXPECT_TRUE(at::equal(target, at::zeros({3})));  // untouched after the error
  load_into({{"w", target}}, path, {DTypeConversion::kConvert});
  EXPECT_TRUE(at::equal(target, half.to(at::kFloat)));
}

TEST(Safetensors, LoadIntoReportsMissingExtraAndMisShapedTensorsByName) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "model.safetensors";
  save_safetensors(path, {{"a.weight", at::ones({2, 3})}, {"old.bias", at::ones({4})}});
  at::Tensor a = at::zeros({3, 2});
  at::Tensor b = at::zeros({5});
  try {
    load_into({{"a.weight", a}, {"b.weight", b}}, path);
    ADD_FAILURE() << "no error";
  } catch (const SafetensorsError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find("3 problem(s)"), std::string::npos) << message;
    EXPECT_NE(message.find("missing tensor 'b.weight' (the model expects [5] F32)"), std::string::npos)
        << message;
    EXPECT_NE(message.find("unexpected tensor 'old.bias'"), std::string::npos) << message;
    EXPECT_NE(message.find("tensor 'a.weight' has shape [2, 3] in the file, the model expects [3, 2]"),
              std::string::npos)
        << message;
  }
  EXPECT_TRUE(at::equal(a, at::zeros({3, 2})));
  // Extra tensors may be ignored on request; missing and mis-shaped ones never are.
  at::Tensor good = at::zeros({2, 3});
  load_into({{"a.weight", good}}, path, {DTypeConversion::kReject, ExtraTensors::kIgnore});
  EXPECT_TRUE(at::equal(good, at::ones({2, 3})));
}

TEST(Safetensors, MissingFileNamesThePath) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "absent.safetensors";
  for (ReadMode mode : {ReadMode::kMmap, ReadMode::kStream}) {
    try {
      SafetensorsFile::open(path, mode);
      ADD_FAILURE() << "no error";
    } catch (const SafetensorsError& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }
}

TEST(SafetensorsCorrupt, ShorterThanTheLengthPrefix) { expect_rejected("\x10\x00\x00", {"truncated"}); }

TEST(SafetensorsCorrupt, HeaderLengthPastTheEnd) {
  expect_rejected(make_file("{}", "", 4096), {"header length 4096 runs past the end"});
}

TEST(SafetensorsCorrupt, HeaderLengthAbsurd) {
  expect_rejected(make_file("{}", "", 0xffffffffffffffffull), {"header length"});
}

TEST(SafetensorsCorrupt, HeaderNotJson) {
  expect_rejected(make_file("{\"w\": {\"dtype\": \"F32\", ", "1234"), {"header is not JSON"});
}

TEST(SafetensorsCorrupt, HeaderJsonButNotAnObject) {
  expect_rejected(make_file("[1, 2, 3]", ""), {"not an object"});
}

TEST(SafetensorsCorrupt, TruncatedData) {
  const TestDir scratch;
  const fs::path path = scratch.path() / "good.safetensors";
  save_safetensors(path, {{"layer.weight", at::ones({4, 4})}});
  std::string bytes = read_bytes(path);
  bytes.resize(bytes.size() - 10);
  expect_rejected(bytes, {"tensor 'layer.weight'", "truncated"});
}

TEST(SafetensorsCorrupt, OffsetsOutOfRange) {
  expect_rejected(
      make_file(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[100,104]}})", std::string(4, 'x')),
      {"tensor 'w'", "data_offsets [100, 104] run past the end"});
}

TEST(SafetensorsCorrupt, OffsetsEndBeforeBegin) {
  expect_rejected(
      make_file(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", std::string(4, 'x')),
      {"tensor 'w'", "end before they begin"});
}

TEST(SafetensorsCorrupt, OverlappingTensors) {
  expect_rejected(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                            std::string(12, 'x')),
                  {"tensor 'b'", "overlap tensor 'a'"});
}

TEST(SafetensorsCorrupt, HoleInTheData) {
  expect_rejected(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                            std::string(12, 'x')),
                  {"belong to no tensor", "tensor 'b'"});
}

TEST(SafetensorsCorrupt, TrailingBytesNotCovered) {
  expect_rejected(
      make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(16, 'x')),
      {"holds 16 bytes but the tensors cover only the first 4"});
}

TEST(SafetensorsCorrupt, OffsetsInconsistentWithShapeAndDtype) {
  expect_rejected(
      make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, 'x')),
      {"tensor 'w'", "hold 8 bytes but shape [3] of F32 needs 12"});
}

TEST(SafetensorsCorrupt, ShapeOverflow) {
  expect_rejected(make_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                            std::string(8, 'x')),
                  {"tensor 'w'", "more than 2^64"});
}

TEST(SafetensorsCorrupt, UnsupportedAndUnknownDtypesByName) {
  expect_rejected(
      make_file(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", std::string(8, 'x')),
      {"tensor 'w'", "unsupported dtype 'F64'"});
  expect_rejected(
      make_file(R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", std::string(1, 'x')),
      {"tensor 'w'", "unknown dtype 'Q7'"});
}

TEST(SafetensorsCorrupt, BadEntries) {
  expect_rejected(make_file(R"({"w":{"dtype":"U8","shape":[1]}})", "x"), {"tensor 'w'", "missing key 'data_offsets'"});
  expect_rejected(make_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}})", "x"),
                  {"tensor 'w'", "unexpected key 'x'"});
  expect_rejected(make_file(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "x"),
                  {"tensor 'w'", "not a non-negative integer"});
  expect_rejected(make_file(R"({"w":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", "x"),
                  {"tensor 'w'", "not a non-negative integer"});
  expect_rejected(make_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", "x"),
                  {"tensor 'w'", "not [begin, end]"});
  expect_rejected(make_file(R"({"w":[1,2]})", ""), {"tensor 'w'", "not an object"});
  expect_rejected(make_file(R"({"__metadata__":{"k":3}})", ""), {"__metadata__ key 'k'"});
}

}  // namespace
}  // namespace sagegen::io
