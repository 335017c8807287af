// The names of a DiT's attention layers, as diffusers names the modules of a transformer block
// (WanTransformerBlock: `attn1` self-attention over the video tokens, `attn2` cross-attention to
// the text). Every sagegen DiT numbers its attention layers the same way: block b's
// self-attention is layer 2b and its cross-attention layer 2b + 1, so an adaptive table may name
// a layer `blocks.3.attn2` instead of 7 (docs/tables.md, "Layer names").
#pragma once

#include <string>

namespace sageattn {

constexpr int kAttentionLayersPerBlock = 2;  // attn1, attn2

constexpr int self_attention_layer(int block) { return kAttentionLayersPerBlock * block; }
constexpr int cross_attention_layer(int block) { return kAttentionLayersPerBlock * block + 1; }
constexpr int block_of_layer(int layer) { return layer / kAttentionLayersPerBlock; }
constexpr bool is_cross_attention_layer(int layer) { return layer % kAttentionLayersPerBlock == 1; }

static_assert(block_of_layer(cross_attention_layer(7)) == 7 &&
              block_of_layer(self_attention_layer(7)) == 7);

// "blocks.3.attn1" for layer 6, "blocks.3.attn2" for layer 7. layer >= 0.
std::string layer_name(int layer);

}  // namespace sageattn
