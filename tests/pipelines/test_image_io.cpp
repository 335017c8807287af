// PNG, frame strip, frame PNGs, video (with and without an encoder) and JSON sidecars.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>

#include "common/temp_dir.h"
#include "sagegen/io/image.h"
#include "sagegen/io/json.h"
#include "sagegen/io/video.h"

namespace sagegen::io {
namespace {

namespace fs = std::filesystem;

using sagegen::testing::remove_tree;

class ImageIo : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("sagegen_image_io_" + std::to_string(::getpid()) + "_" + info->name());
    remove_tree(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { remove_tree(dir_); }
  const fs::path& test_dir() const { return dir_; }

 private:
  fs::path dir_;
};

at::Tensor random_frames(std::int64_t frames, std::int64_t height, std::int64_t width) {
  return at::randint(0, 256, {frames, height, width, 3}, at::TensorOptions().dtype(at::kByte));
}

// Each frame a flat colour that encodes its index, so a strip's layout can be read back exactly.
at::Tensor indexed_frames(std::int64_t frames, std::int64_t height, std::int64_t width) {
  at::Tensor out = at::empty({frames, height, width, 3}, at::kByte);
  for (std::int64_t f = 0; f < frames; ++f) out[f].fill_(static_cast<int>(10 + 40 * f));
  return out;
}

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_F(ImageIo, PngRoundTripIsExact) {
  at::manual_seed(5);
  const fs::path path = test_dir() / "image.png";
  const at::Tensor image = random_frames(1, 37, 53)[0];  // odd sizes: no row padding assumptions
  write_png(path, image);
  const at::Tensor back = read_png(path);
  EXPECT_EQ(back.sizes(), image.sizes());
  EXPECT_TRUE(at::equal(back, image));
}

TEST_F(ImageIo, PngAcceptsNonContiguousInput) {
  at::manual_seed(6);
  const fs::path path = test_dir() / "transposed.png";
  const at::Tensor image = random_frames(1, 16, 24)[0].transpose(0, 1);  // [24, 16, 3], strided
  write_png(path, image);
  EXPECT_TRUE(at::equal(read_png(path), image.contiguous()));
}

TEST_F(ImageIo, PngErrorsNameThePathAndTheTensor) {
  const fs::path dir = test_dir();
  const at::Tensor image = at::zeros({8, 8, 3}, at::kByte);
  std::string message = error_of([&] { write_png(dir / "missing_dir" / "x.png", image); });
  EXPECT_NE(message.find("missing_dir"), std::string::npos) << message;
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;

  message = error_of([&] { write_png(dir / "float.png", at::zeros({8, 8, 3})); });
  EXPECT_NE(message.find("float.png"), std::string::npos) << message;
  EXPECT_NE(message.find("dtype Float, expected uint8"), std::string::npos) << message;

  message = error_of([&] { write_png(dir / "rgba.png", at::zeros({8, 8, 4}, at::kByte)); });
  EXPECT_NE(message.find("[8, 8, 4]"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir / "rgba.png"));

  message = error_of([&] { read_png(dir / "absent.png"); });
  EXPECT_NE(message.find("absent.png"), std::string::npos) << message;

  const fs::path not_png = dir / "not.png";
  write_json(not_png, nlohmann::json{{"a", 1}});
  message = error_of([&] { read_png(not_png); });
  EXPECT_NE(message.find("not.png"), std::string::npos) << message;
}

TEST_F(ImageIo, FrameStripPutsFramesSideBySideInOrder) {
  const fs::path path = test_dir() / "strip.png";
  const at::Tensor frames = indexed_frames(4, 6, 5);
  write_frame_strip(path, frames);
  const at::Tensor strip = read_png(path);
  ASSERT_EQ(strip.sizes(), (at::IntArrayRef{6, 20, 3}));
  for (std::int64_t f = 0; f < 4; ++f) {
    EXPECT_TRUE(at::equal(strip.slice(1, f * 5, (f + 1) * 5), frames[f])) << "frame " << f;
  }
}

TEST_F(ImageIo, FramePngsOnePerFrame) {
  at::manual_seed(7);
  const fs::path dir = test_dir();
  const at::Tensor frames = random_frames(3, 8, 8);
  const auto paths = write_frame_pngs(dir / "clip.mp4", frames);
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[2], dir / "clip_frame002.png");
  for (std::size_t f = 0; f < paths.size(); ++f) EXPECT_TRUE(at::equal(read_png(paths[f]), frames[f]));
}

TEST_F(ImageIo, VideoWithoutEncoderWritesFramePngsAndStrip) {
  at::manual_seed(8);
  const fs::path dir = test_dir();
  const at::Tensor frames = random_frames(5, 8, 12);
  const VideoFiles files = write_video(dir / "clip.mp4", frames, 8.0, VideoEncoder::kFramePngs);
  EXPECT_FALSE(files.video.has_value());
  EXPECT_FALSE(fs::exists(dir / "clip.mp4"));
  ASSERT_EQ(files.frame_pngs.size(), 5u);
  EXPECT_TRUE(at::equal(read_png(files.frame_pngs[4]), frames[4]));
  EXPECT_EQ(files.strip, dir / "clip_strip.png");
  EXPECT_EQ(read_png(files.strip).sizes(), (at::IntArrayRef{8, 60, 3}));
}

TEST_F(ImageIo, VideoAutoEncodesWhenOpenCvIsBuiltIn) {
  at::manual_seed(9);
  const fs::path dir = test_dir();
  const at::Tensor frames = random_frames(8, 64, 64);
  std::ostringstream log;
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "video-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  const VideoFiles files = write_video(dir / "clip.mp4", frames, 8.0);
  spdlog::set_default_logger(previous);
  EXPECT_TRUE(fs::exists(files.strip));
  if (!video_encoding_available()) {
    EXPECT_FALSE(files.video.has_value());
    EXPECT_EQ(files.frame_pngs.size(), 8u);
    EXPECT_NE(log.str().find("needs OpenCV"), std::string::npos) << log.str();
    return;
  }
  EXPECT_EQ(log.str().find("needs OpenCV"), std::string::npos) << log.str();
  ASSERT_TRUE(files.video.has_value()) << "OpenCV is built in but neither MP4 nor AVI was written";
  EXPECT_GT(fs::file_size(*files.video), 0u);
  EXPECT_TRUE(files.codec == "mp4v" || files.codec == "MJPG") << files.codec;
  EXPECT_TRUE(files.frame_pngs.empty());
  // No temporary files left behind.
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir)) entries += entry.path().filename().string()[0] == '.';
  EXPECT_EQ(entries, 0);
}

TEST_F(ImageIo, VideoRejectsBadInput) {
  const fs::path dir = test_dir();
  std::string message = error_of([&] { write_video(dir / "v.mp4", at::zeros({8, 8, 3}, at::kByte), 8.0); });
  EXPECT_NE(message.find("v.mp4"), std::string::npos) << message;
  EXPECT_NE(message.find("[F, H, W, 3]"), std::string::npos) << message;
  message = error_of([&] { write_video(dir / "v.mp4", at::zeros({2, 8, 8, 3}, at::kByte), 0.0); });
  EXPECT_NE(message.find("fps 0"), std::string::npos) << message;
}

TEST_F(ImageIo, JsonSidecarRoundTripPretty) {
  const fs::path path = test_dir() / "out.json";
  const nlohmann::json sidecar = {{"prompt", "a red circle"}, {"seed", 42}, {"calls", {{"sage2-8b", 10}}}};
  write_json(path, sidecar);
  EXPECT_EQ(read_json(path), sidecar);
  std::ifstream stream(path);
  std::string first_line, second_line;
  std::getline(stream, first_line);
  std::getline(stream, second_line);
  EXPECT_EQ(first_line, "{");
  EXPECT_EQ(second_line.rfind("  \"", 0), 0u) << second_line;  // two-space indent
  const std::string message = error_of([&] { write_json(path.parent_path() / "nope" / "x.json", sidecar); });
  EXPECT_NE(message.find("nope"), std::string::npos) << message;
}

}  // namespace
}  // namespace sagegen::io
