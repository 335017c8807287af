#include "sageattn/layer_names.h"

#include <stdexcept>

namespace sageattn {

std::string layer_name(int layer) {
  if (layer < 0) {
    throw std::out_of_range("layer_name: layer ids count from 0, got " + std::to_string(layer));
  }
  return "blocks." + std::to_string(block_of_layer(layer)) +
         (is_cross_attention_layer(layer) ? ".attn2" : ".attn1");
}

}  // namespace sageattn
