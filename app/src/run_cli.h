// The whole program behind main(): parse, set up logging, dispatch to a sub-command, and map
// errors to exit codes (2 for what the user must fix, 1 for failures) with one line on stderr.
#pragma once

namespace sagegen::cli {

int run_cli(int argc, char** argv);

}  // namespace sagegen::cli
