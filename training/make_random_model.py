"""Write a random model in the Hugging Face layout, plus reference outputs for parity tests.

    python3 training/make_random_model.py --out DIR [--vocab 300 --hidden 64 --layers 2 --heads 4
        --kv-heads 2 --intermediate 128 --rope-theta 10000 --untied --bias --arch llama --dtype F32
        --seed 0 --prompts "1,2,3;4,5" --steps 20 --reference DIR/reference.json]

Files: config.json, model.safetensors, tokenizer.json (byte-level BPE: specials, 256 byte tokens,
then merges of letter pairs up to --vocab), tokenizer_config.json, generation_config.json.
The reference (computed from the model as re-read from disk, so f16/bf16 rounding is included):
{"prompts": [{"ids": [...], "tokens": [20 greedy ids], "logits": [[T*V prefill], [V step 1], ...]}]}.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_io import load_pretrained, save_pretrained  # noqa: E402
from model import LlamaConfig, LlamaForCausalLM  # noqa: E402

SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]


def byte_to_unicode():
    # GPT-2's reversible map from bytes to printable characters (what ByteLevel pre-tokenizers use).
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def make_tokenizer(vocab_size):
    if vocab_size < len(SPECIALS) + 256:
        raise SystemExit(f"--vocab must be at least {len(SPECIALS) + 256} (specials + 256 bytes), got {vocab_size}")
    b2u = byte_to_unicode()
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for b in range(256):
        vocab[b2u[b]] = len(vocab)
    merges = []
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    pairs = [(b2u[ord(" ")], a) for a in letters] + [(a, b) for a in letters for b in letters]
    for a, b in pairs:
        if len(vocab) >= vocab_size:
            break
        vocab[a + b] = len(vocab)
        merges.append(f"{a} {b}")
    while len(vocab) < vocab_size:  # beyond the pair list: unused placeholder tokens
        vocab[f"<extra_{len(vocab)}>"] = len(vocab)
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
             for i, t in enumerate(SPECIALS)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": merges},
    }


def randomize(model, seed):
    # Larger than training init so activations and logits are O(1..10): parity checks then mean something.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--arch", default="llama", choices=["llama", "qwen2", "mistral"])
    ap.add_argument("--vocab", type=int, default=300)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=0)
    ap.add_argument("--intermediate", type=int, default=128)
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--eps", type=float, default=1e-5)
    ap.add_argument("--untied", action="store_true")
    ap.add_argument("--bias", action="store_true", help="attention bias (llama: q/k/v/o; qwen2 always has q/k/v)")
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prompts", default="", help='token id lists for the reference, e.g. "5,6,7;8,9"')
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--reference", default="", help="where to write reference logits (JSON)")
    a = ap.parse_args()

    bias = a.bias or a.arch == "qwen2"
    cfg = LlamaConfig(
        vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate, num_hidden_layers=a.layers,
        num_attention_heads=a.heads, num_key_value_heads=a.kv_heads, head_dim=a.head_dim, rms_norm_eps=a.eps,
        rope_theta=a.rope_theta, tie_word_embeddings=not a.untied, attention_bias=bias,
        output_bias=bias and a.arch == "llama", architecture=a.arch, bos_token_id=1, eos_token_id=[2],
    )
    torch.manual_seed(a.seed)
    model = LlamaForCausalLM(cfg)
    randomize(model, a.seed)
    save_pretrained(model, a.out, a.dtype)
    with open(os.path.join(a.out, "tokenizer.json"), "w") as f:
        json.dump(make_tokenizer(a.vocab), f)
    with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>",
                   "add_bos_token": False, "model_max_length": cfg.max_position_embeddings}, f, indent=2)
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": [2], "do_sample": False}, f, indent=2)

    if a.reference:
        model = load_pretrained(a.out)  # what is on disk, after any f16/bf16 rounding
        prompts = [[int(t) for t in p.split(",")] for p in a.prompts.split(";") if p.strip()]
        out = []
        for ids in prompts:
            tokens, logits = model.greedy(torch.tensor([ids]), a.steps)
            out.append({"ids": ids, "tokens": tokens, "logits": [l.flatten().tolist() for l in logits]})
        with open(a.reference, "w") as f:
            json.dump({"vocab": a.vocab, "prompts": out}, f)
    print(f"wrote {a.out} ({sum(p.numel() for p in model.parameters())} parameters, {a.dtype})")


if __name__ == "__main__":
    main()
