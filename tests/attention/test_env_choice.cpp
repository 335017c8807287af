// env_choice (attention/src/env_choice.h), which the kernels' A/B switches read their variables
// with: unset and empty give the first choice, each word its value, and any other word an error
// naming the variable, the word and the choices.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "env_choice.h"

namespace sageattn {
namespace {

constexpr const char* kVariable = "SAGEATTN_TEST_ENV_CHOICE";

int read() { return env_choice<int>(kVariable, {{"auto", 1}, {"off", 0}, {"full", 2}}); }

TEST(EnvChoice, UnsetAndEmptyGiveTheFirstChoice) {
  unsetenv(kVariable);
  EXPECT_EQ(read(), 1);
  setenv(kVariable, "", 1);
  EXPECT_EQ(read(), 1);
  unsetenv(kVariable);
}

TEST(EnvChoice, EachWordGivesItsValue) {
  setenv(kVariable, "auto", 1);
  EXPECT_EQ(read(), 1);
  setenv(kVariable, "off", 1);
  EXPECT_EQ(read(), 0);
  setenv(kVariable, "full", 1);
  EXPECT_EQ(read(), 2);
  unsetenv(kVariable);
}

TEST(EnvChoice, AnotherWordIsAnErrorNamingTheVariableAndTheChoices) {
  setenv(kVariable, "Off", 1);
  try {
    read();
    ADD_FAILURE() << "'Off' was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find(
            "environment variable SAGEATTN_TEST_ENV_CHOICE='Off' is not one of auto, off, full"),
        std::string::npos)
        << e.what();
  }
  unsetenv(kVariable);
}

}  // namespace
}  // namespace sageattn
