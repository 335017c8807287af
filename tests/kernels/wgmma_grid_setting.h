// Sets the process's wgmma grid (cuda_backend.h WgmmaGrid) for one test and puts the previous
// setting back however the test ends.
#pragma once

#include "cuda_backend.h"

namespace sagegen::kernel_tests {

class ScopedWgmmaGrid {
 public:
  ScopedWgmmaGrid(sageattn::cuda_backend::WgmmaGrid grid, int max_ctas)
      : grid_(sageattn::cuda_backend::wgmma_grid()),
        max_ctas_(sageattn::cuda_backend::wgmma_grid_max_ctas()) {
    sageattn::cuda_backend::set_wgmma_grid(grid, max_ctas);
  }
  ~ScopedWgmmaGrid() { sageattn::cuda_backend::set_wgmma_grid(grid_, max_ctas_); }
  ScopedWgmmaGrid(const ScopedWgmmaGrid&) = delete;
  ScopedWgmmaGrid& operator=(const ScopedWgmmaGrid&) = delete;

 private:
  sageattn::cuda_backend::WgmmaGrid grid_;
  int max_ctas_;
};

}  // namespace sagegen::kernel_tests
