// The library names the fields of LoadOptions and GenerateRequest; the CLI names its flags.
#include <gtest/gtest.h>

#include <stdexcept>

#include "error_message.h"
#include "sagegen/errors.h"

namespace sagegen::cli {
namespace {

TEST(CliErrorMessage, LibraryNamesFieldsTheCliNamesFlags) {
  const RequestError size({{"width", "100000"}, {"height", "90000"}, {"frames", "1"}},
                          "needs at least 1 TiB");
  EXPECT_STREQ(size.what(), "width 100000, height 90000, frames 1: needs at least 1 TiB");
  EXPECT_EQ(cli_error_message(size), "--size 100000x90000 --frames 1: needs at least 1 TiB");

  const RequestError strict({{"strict_prompt", ""}}, "2 words of the prompt ...");
  EXPECT_STREQ(strict.what(), "strict_prompt: 2 words of the prompt ...");
  EXPECT_EQ(cli_error_message(strict), "--strict-prompt: 2 words of the prompt ...");

  const ConfigError weights({{"weights", "w.safetensors"}},
                            "the diffusers folder f holds its own weights");
  EXPECT_EQ(cli_error_message(weights),
            "--weights w.safetensors: the diffusers folder f holds its own weights");
}

// A width alone is its own flag; errors that name no field (files and keys) keep their message.
TEST(CliErrorMessage, OtherErrorsKeepTheirMessage) {
  EXPECT_EQ(flags_of({{"width", "18"}}), "--width 18");
  EXPECT_EQ(cli_error_message(ConfigError("t.yaml:3:1: unknown key 'x'")),
            "t.yaml:3:1: unknown key 'x'");
  EXPECT_EQ(cli_error_message(RequestError("plain")), "plain");
  EXPECT_EQ(cli_error_message(std::runtime_error("other")), "other");
}

}  // namespace
}  // namespace sagegen::cli
