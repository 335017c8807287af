// The whole program behind main(): parse, set up logging, dispatch to a sub-command, and map
// errors to exit codes (2 for what the user must fix, 1 for failures) with one line on stderr.
#pragma once

namespace sagegen::cli {

int run_cli(int argc, char** argv);

// Intra-op threads when neither -t/--threads nor OMP_NUM_THREADS says (docs/cli.md has the
// measurement behind it).
int default_thread_count();

}  // namespace sagegen::cli
