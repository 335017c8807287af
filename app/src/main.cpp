#include "run_cli.h"

int main(int argc, char** argv) { return sagegen::cli::run_cli(argc, argv); }
