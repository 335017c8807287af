#!/usr/bin/env python3
"""Parity fixtures for sagegen's Wan2.1 support: tiny random-weight diffusers components.

Builds tiny versions of the components of a Wan2.1-T2V diffusers folder in the exact
diffusers/transformers classes, saves them in the folder layout a user downloads
(model_index.json, transformer/ (sharded), text_encoder/, vae/, scheduler/), and writes inputs
and reference outputs next to it. The C++ tests (tests/pipelines/test_wan_*.cpp) load the folder
through the same loader a user's folder goes through and compare with the references.

Run by hand, not by CI (CI has no diffusers); pinned versions in requirements.txt:
    /work/wan-venv/bin/python scripts/wan_parity/make_fixtures.py [--out tests/data/wan-tiny]

Deterministic: every component draws from its own seed, so adding a component later leaves the
others' bytes unchanged.
"""

import argparse
import io
import json
import math
import shutil
from pathlib import Path

import diffusers
import numpy as np
import safetensors.torch
import torch
import transformers
from diffusers.utils import is_ftfy_available
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel
import sentencepiece as spm
from diffusers.pipelines.wan.pipeline_wan import prompt_clean
from transformers import AutoTokenizer, T5Tokenizer, UMT5Config, UMT5EncoderModel

FOLDER_NAME = "Wan2.1-T2V-tiny-Diffusers"

# Shapes: Wan2.1's structure at a few KB. head_dim 16 (the smallest sageattn takes) splits
# into RoPE axes 8/4/4.
TRANSFORMER = dict(
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=16,
    in_channels=16,
    out_channels=16,
    text_dim=32,
    freq_dim=256,
    ffn_dim=32,
    num_layers=2,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    eps=1e-6,
    image_dim=None,
    added_kv_proj_dim=None,
    rope_max_seq_len=32,
)
# vocab_size: the tokenizer's (set in main once it is trained).
TEXT_ENCODER = dict(
    vocab_size=None,
    d_model=32,
    d_kv=8,
    d_ff=48,
    num_layers=2,
    num_heads=4,
    relative_attention_num_buckets=8,
    relative_attention_max_distance=16,
    feed_forward_proj="gated-gelu",
    dropout_rate=0.0,
)
# base_dim 16, not smaller: the decoder RMS-normalises every pixel's channel vector, and with few
# channels (base_dim 3: 3, and 1 after each upsampler's halving) some vectors are near zero, so
# the normalisation multiplies their rounding error. At 16 the frames move by less than 1e-5
# for a 1e-6 change of the latents (the manifest's pipeline_frames_change_for_1e-6_latent_change;
# 1.3e-4 at base_dim 3), as a trained VAE's would, and the pipeline's frames are held to 1e-4.
VAE = dict(base_dim=16, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
           temperal_downsample=[False, True, True])
# Wan2.1-T2V-1.3B-Diffusers' scheduler_config.json values that change the math.
SCHEDULER = dict(num_train_timesteps=1000, solver_order=2, prediction_type="flow_prediction",
                 predict_x0=True, solver_type="bh2", lower_order_final=True, use_flow_sigmas=True,
                 flow_shift=3.0, final_sigmas_type="zero", timestep_spacing="linspace")


def randomize(module: torch.nn.Module, seed: int) -> None:
    """Every parameter random and away from its default (norm weights 1, biases 0), so a
    mis-mapped tensor changes the output."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            if p.dim() >= 2 and not name.endswith("scale_shift_table"):
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
            elif name.endswith("scale_shift_table"):
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[-1]))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:  # norm weights
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))


def save_tensors(path: Path, tensors: dict) -> None:
    # sagegen's reader takes float and 8-bit dtypes only: integer references (timesteps, token
    # ids, all well below 2^24) are stored as exact float32.
    safetensors.torch.save_file(
        {k: (v.float() if v.dtype == torch.int64 else v).contiguous() for k, v in tensors.items()},
        str(path))


def random_model(build, seed: int) -> torch.nn.Module:
    """build() under torch.manual_seed(seed), in eval mode, with every parameter randomized."""
    torch.manual_seed(seed)
    model = build().eval()
    randomize(model, seed)
    return model


def transformer_reference(model: WanTransformer3DModel, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    # Two samples of a 3-frame 8x10 latent (48 + 12 tokens per frame... 3 * 4 * 5 = 60 tokens),
    # 7 text tokens; timesteps as the pipeline passes them (int64 from the scheduler).
    x = torch.randn(2, 16, 3, 8, 10, generator=gen)
    text = torch.randn(2, 7, TRANSFORMER["text_dim"], generator=gen)
    timestep = torch.tensor([999, 417], dtype=torch.int64)
    with torch.no_grad():
        out = model(hidden_states=x, timestep=timestep, encoder_hidden_states=text,
                    return_dict=False)[0]
    return {"hidden_states": x, "timestep": timestep, "encoder_hidden_states": text, "output": out}


def make_scheduler(**overrides) -> UniPCMultistepScheduler:
    return UniPCMultistepScheduler(**{**SCHEDULER, **overrides})


def scheduler_reference(seed: int) -> dict:
    out = {}
    # Schedules: sigmas (float32, steps + 1) and timesteps (int64, steps).
    for steps in (1, 2, 4, 10, 50):
        for shift in (1.0, 3.0, 5.0):
            s = make_scheduler(flow_shift=shift)
            s.set_timesteps(steps)
            key = f"shift{shift:g}_steps{steps}"
            out[f"sigmas.{key}"] = s.sigmas.clone()
            out[f"timesteps.{key}"] = s.timesteps.clone()
    # Trajectories: fixed "model outputs" fed to step() for every step; the samples after each.
    cases = {
        "wan": dict(steps=5, overrides={}),
        # bh1 with a zero final sigma ends in NaN in diffusers (-inf * 0): sigma_min here.
        "order3_bh1": dict(steps=6, overrides=dict(solver_order=3, solver_type="bh1",
                                                   flow_shift=5.0, disable_corrector=[2],
                                                   final_sigmas_type="sigma_min")),
        "order1": dict(steps=3, overrides=dict(solver_order=1)),
    }
    gen = torch.Generator().manual_seed(seed)
    for name, case in cases.items():
        s = make_scheduler(**case["overrides"])
        s.set_timesteps(case["steps"])
        sample = torch.randn(1, 16, 2, 4, 6, generator=gen)
        out[f"{name}.initial"] = sample.clone()
        for i, t in enumerate(s.timesteps):
            model_output = torch.randn(sample.shape, generator=gen)
            out[f"{name}.model_output.{i}"] = model_output
            sample = s.step(model_output, t, sample, return_dict=False)[0]
            out[f"{name}.sample.{i}"] = sample.clone()
    return out, {name: dict(steps=c["steps"], **{**SCHEDULER, **c["overrides"]})
                 for name, c in cases.items()}


# The umT5 vocabulary cannot be fetched here: a small sentencepiece unigram model trained on this
# text stands in for it, with umT5's special ids (pad 0, eos 1, unk 2, no bos), its nmt_nfkc
# normalisation and byte fallback (which transformers' T5Tokenizer does not use: unknown
# characters become <unk> there, and the C++ tokenizer has to do the same).
TOKENIZER_TRAINING_TEXT = """\
A cat walks on the grass, realistic style.
Two anthropomorphic cats in comfy boxing gear and bright gloves fight intensely on a spotlighted stage.
A red circle above a blue square. The camera pans slowly across a mountain lake at sunrise.
Un chat marche sur l'herbe, très réaliste. Ein Hund läuft über die Straße.
一只猫在草地上行走。 夕日の海辺を歩く犬。
Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, \
static, overall gray, worst quality, low quality.
"""
# Prompts for the tokenizer reference: plain, unicode (NFKC, characters outside the vocabulary,
# curly quotes ftfy straightens), HTML entities and odd whitespace (the pipeline's prompt_clean),
# empty, longer than 512 tokens (truncated, </s> kept last), special tokens' text (split out).
TOKENIZER_PROMPTS = [
    "A cat walks on the grass, realistic style.",
    "一只猫在草地上行走 — café Straße 🐈🐈 ＡＢＣ ① “quoted” ‘it’s’ ﬁne",
    "  Bright\ttones,\n\n overexposed &amp; static &lt;b&gt; &#233;&#x4e00;\u3000x\u00a0y  ",
    "",
    " ".join(["The camera pans slowly across a mountain lake at sunrise."] * 60),
    "a cat</s>walks <pad> on the grass </s>",
]


def make_tokenizer(folder: Path) -> T5Tokenizer:
    """Trains the stand-in vocabulary into folder/spiece.model and wraps it in the tokenizer
    class the hub's Wan folders name (transformers converts the sentencepiece model)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TOKENIZER_TRAINING_TEXT.splitlines()), model_writer=model,
        vocab_size=400, hard_vocab_limit=False, model_type="unigram", character_coverage=1.0,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, byte_fallback=True, num_threads=1,
        minloglevel=2)
    (folder / "spiece.model").write_bytes(model.getvalue())
    # No <extra_id_N> sentinels: they would sit past the text encoder's small vocabulary.
    return T5Tokenizer.from_pretrained(folder, extra_ids=0)


def tokenizer_reference(tokenizer_dir: Path) -> dict:
    """What WanPipeline._get_t5_prompt_embeds gives the text encoder: prompt_clean, then the
    tokenizer padded and truncated to 512 with </s>, through the tokenizer as diffusers loads it."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    cases = []
    for prompt in TOKENIZER_PROMPTS:
        cleaned = prompt_clean(prompt)
        out = tokenizer([cleaned], padding="max_length", max_length=512, truncation=True,
                        add_special_tokens=True, return_attention_mask=True)
        ids, mask = out.input_ids[0], out.attention_mask[0]
        length = sum(mask)
        assert all(i == tokenizer.pad_token_id for i in ids[length:]), prompt
        cases.append({"prompt": prompt, "cleaned": cleaned, "length": length,
                      "input_ids": ids[:length]})
    return {"tokenizer_class": type(tokenizer).__name__, "max_length": 512,
            "pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id,
            "ftfy": is_ftfy_available(), "cases": cases}


def text_encoder_reference(model: UMT5EncoderModel, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, TEXT_ENCODER["vocab_size"], (2, 12), generator=gen)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0  # the second prompt is 7 tokens, then padding
    ids[1, 7:] = 0
    with torch.no_grad():
        out = model(ids, mask).last_hidden_state
    return {"input_ids": ids, "attention_mask": mask, "last_hidden_state": out}


def vae_reference(vae: AutoencoderKLWan, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    # 3 latent frames -> 1 + 2 * 4 = 9 video frames; 4x6 latent -> 32x48 pixels.
    z = torch.randn(1, VAE["z_dim"], 3, 4, 6, generator=gen)
    with torch.no_grad():
        video = vae.decode(z, return_dict=False)[0]
    return {"latents": z, "video": video}


def wan_prompt_embeds(text_encoder: UMT5EncoderModel, ids: torch.Tensor, mask: torch.Tensor,
                      max_sequence_length: int = 512) -> torch.Tensor:
    """WanPipeline._get_t5_prompt_embeds from token ids: each prompt's features at its own
    length, zero-padded to max_sequence_length."""
    with torch.no_grad():
        hidden = text_encoder(ids, mask).last_hidden_state
    lengths = mask.gt(0).sum(dim=1).long()
    return torch.stack([torch.cat([u[:n], u.new_zeros(max_sequence_length - n, u.size(1))])
                        for u, n in zip(hidden, lengths)])


def denoise_reference(pipe, text_encoder_ref: dict, seed: int) -> dict:
    """WanPipeline's denoising loop (4 UniPC steps, CFG 5) from fixed latents and the text
    encoder reference's two prompts (the first as the prompt, the second as the negative)."""
    gen = torch.Generator().manual_seed(seed)
    latents = torch.randn(1, VAE["z_dim"], 3, 4, 6, generator=gen)  # 9 frames of 32x48
    embeds = wan_prompt_embeds(pipe.text_encoder, text_encoder_ref["input_ids"],
                               text_encoder_ref["attention_mask"])
    with torch.no_grad():
        out = pipe(prompt_embeds=embeds[0:1], negative_prompt_embeds=embeds[1:2], height=32,
                   width=48, num_frames=9, num_inference_steps=4, guidance_scale=5.0,
                   latents=latents.clone(), output_type="latent", return_dict=False)[0]
    return {"latents": latents, "prompt_embeds": embeds, "denoised": out}


# The frames' parity bound in tests/wan/test_wan_pipeline.cpp is 1e-4: the VAE's amplification of
# a 1e-6 latent change has to leave most of it to the decode's own error.
MAX_FRAMES_CHANGE_FOR_1E6_LATENT_CHANGE = 2e-5

# The whole pipeline as a user runs it: WanPipeline.from_pretrained on the folder, prompts as
# text, noise from a seeded CPU generator (torch.randn, which sagegen's initial_noise repeats).
PIPELINE_RUN = dict(prompt="A cat walks on the grass, realistic style.",
                    negative_prompt="Bright tones, overexposed, static", height=32, width=48,
                    num_frames=9, num_inference_steps=4, guidance_scale=5.0, seed=16)


def pipeline_reference(folder: Path) -> dict:
    pipe = diffusers.WanPipeline.from_pretrained(folder)
    pipe.set_progress_bar_config(disable=True)
    run = dict(PIPELINE_RUN)
    seed = run.pop("seed")
    with torch.no_grad():
        video = pipe(**run, generator=torch.Generator().manual_seed(seed), output_type="np",
                     return_dict=False)[0]
        latents = pipe(**run, generator=torch.Generator().manual_seed(seed),
                       output_type="latent", return_dict=False)[0]
    # How much the random-weight VAE amplifies float rounding: the largest change of the frames
    # when the latents move by 1e-6 of their largest magnitude times a standard normal (the
    # size of the denoising loop's float32 differences between two implementations). It has
    # to stay well below the frames' 1e-4 bound for that bound to test the decode.
    vae = pipe.vae
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    inverse_std = 1.0 / torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)

    def frames(z):
        with torch.no_grad():
            return (vae.decode(z / inverse_std + mean, return_dict=False)[0] / 2 + 0.5).clamp(0, 1)

    gen = torch.Generator().manual_seed(seed + 1)
    nudge = 1e-6 * latents.abs().max() * torch.randn(latents.shape, generator=gen)
    sensitivity = (frames(latents + nudge) - frames(latents)).abs().max().item()
    # video: [1, F, H, W, 3] in [0, 1] (diffusers' postprocess: video / 2 + 0.5, clamped).
    return {"video": torch.from_numpy(video).float(), "latents": latents}, sensitivity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[2] / "tests" / "data" / "wan-tiny")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out: Path = args.out
    folder = out / FOLDER_NAME
    reference = out / "reference"
    if folder.exists():
        shutil.rmtree(folder)
    reference.mkdir(parents=True, exist_ok=True)

    transformer = random_model(lambda: WanTransformer3DModel(**TRANSFORMER), seed=1)
    tokenizer = make_tokenizer(folder / "tokenizer")
    TEXT_ENCODER["vocab_size"] = len(tokenizer)
    text_encoder = random_model(lambda: UMT5EncoderModel(UMT5Config(**TEXT_ENCODER)), seed=2)
    vae = random_model(lambda: AutoencoderKLWan(**VAE), seed=3)
    scheduler = make_scheduler()

    # The folder as WanPipeline.save_pretrained writes it, with the sentencepiece model next to
    # the tokenizer's tokenizer.json as in the hub's folders.
    pipe = diffusers.WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae,
                                 scheduler=scheduler, transformer=transformer)
    spiece = (folder / "tokenizer" / "spiece.model").read_bytes()
    pipe.save_pretrained(folder, safe_serialization=True)
    (folder / "tokenizer" / "spiece.model").write_bytes(spiece)
    # A sharded transformer (as the hub's), so the loader's index path is what the tests use.
    shutil.rmtree(folder / "transformer")
    transformer.save_pretrained(folder / "transformer", safe_serialization=True,
                                max_shard_size="100KB")

    save_tensors(reference / "transformer.safetensors", transformer_reference(transformer, 11))
    sched_tensors, sched_cases = scheduler_reference(12)
    save_tensors(reference / "unipc.safetensors", sched_tensors)
    text_encoder_ref = text_encoder_reference(text_encoder, 13)
    save_tensors(reference / "text_encoder.safetensors", text_encoder_ref)
    save_tensors(reference / "vae_decode.safetensors", vae_reference(vae, 14))
    pipe.set_progress_bar_config(disable=True)
    save_tensors(reference / "denoise.safetensors", denoise_reference(pipe, text_encoder_ref, 15))
    (reference / "tokenizer.json").write_text(
        json.dumps(tokenizer_reference(folder / "tokenizer"), ensure_ascii=False, indent=1) + "\n")
    pipeline_tensors, vae_sensitivity = pipeline_reference(folder)
    if vae_sensitivity > MAX_FRAMES_CHANGE_FOR_1E6_LATENT_CHANGE:
        raise SystemExit(f"the fixture's VAE amplifies rounding too much: frames move by "
                         f"{vae_sensitivity:.3g} for a 1e-6 latent change (at most "
                         f"{MAX_FRAMES_CHANGE_FOR_1E6_LATENT_CHANGE:g}, a fifth of the frames' "
                         f"1e-4 bound)")
    save_tensors(reference / "pipeline.safetensors", pipeline_tensors)
    manifest = {
        "made_by": "scripts/wan_parity/make_fixtures.py",
        "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__},
        "unipc_cases": sched_cases,
        "pipeline_run": PIPELINE_RUN,
        "pipeline_frames_change_for_1e-6_latent_change": vae_sensitivity,
    }
    (reference / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
