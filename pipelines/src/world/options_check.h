#pragma once

#include "sagegen/world/shapes_world.h"

namespace sagegen::world::detail {

// Throws (TORCH_CHECK) naming the field and its value when options are out of range.
void check_options(const WorldOptions& options);

}  // namespace sagegen::world::detail
