"""Read and write models in the Hugging Face layout: config.json + model.safetensors.

safetensors is written by our own code: u64 little-endian header length, JSON header
{name: {dtype, shape, data_offsets}}, then raw little-endian tensor bytes. F32, F16 and BF16 are
read (BF16 via its top 16 bits of an f32) and can be written.
"""
import json
import os
import struct

import numpy as np
import torch

from model import LlamaConfig, LlamaForCausalLM

ARCH_NAMES = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "mistral": "MistralForCausalLM"}
ARCH_FROM_NAME = {v: k for k, v in ARCH_NAMES.items()}


def _to_bytes(t, dtype):
    t = t.detach().contiguous().cpu()
    if dtype == "F32":
        return t.float().numpy().astype("<f4").tobytes()
    if dtype == "F16":
        return t.half().numpy().astype("<f2").tobytes()
    if dtype == "BF16":
        # Round to nearest even, keep the top half of each f32.
        u = t.float().numpy().astype("<f4").view("<u4").astype(np.uint64)
        u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
        return u.astype("<u2").tobytes()
    raise ValueError(f"unsupported dtype {dtype!r}; should be one of F32, F16, BF16")


def write_safetensors(path, tensors, dtype="F32"):
    """tensors: {name: torch.Tensor}; every tensor is stored as `dtype`."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        b = _to_bytes(tensors[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # pad so the data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[base + a : base + b]
        dt = info["dtype"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dt == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {dt!r}")
        out[name] = torch.from_numpy(arr.copy()).reshape(info["shape"])
    return out


def config_to_hf(cfg):
    d = {
        "architectures": [ARCH_NAMES[cfg.architecture]],
        "model_type": cfg.architecture,
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim,
        "hidden_act": "silu",
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_scaling": None,
        "max_position_embeddings": cfg.max_position_embeddings,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "bos_token_id": cfg.bos_token_id,
        "eos_token_id": cfg.eos_token_id,
        "torch_dtype": "float32",
    }
    if cfg.architecture == "llama":
        d["attention_bias"] = cfg.attention_bias
    if cfg.architecture in ("mistral", "qwen2"):
        d["sliding_window"] = None
        d["use_sliding_window"] = False
    return d


def config_from_hf(d):
    arch = ARCH_FROM_NAME[d["architectures"][0]] if d.get("architectures") else d["model_type"]
    heads = d["num_attention_heads"]
    bias = True if arch == "qwen2" else bool(d.get("attention_bias", False))
    eos = d.get("eos_token_id")
    return LlamaConfig(
        vocab_size=d["vocab_size"], hidden_size=d["hidden_size"], intermediate_size=d["intermediate_size"],
        num_hidden_layers=d["num_hidden_layers"], num_attention_heads=heads,
        num_key_value_heads=d.get("num_key_value_heads") or heads, head_dim=d.get("head_dim") or 0,
        rms_norm_eps=d.get("rms_norm_eps", 1e-6), rope_theta=d.get("rope_theta", 10000.0),
        max_position_embeddings=d.get("max_position_embeddings", 2048),
        tie_word_embeddings=d.get("tie_word_embeddings", False), attention_bias=bias,
        output_bias=bias and arch == "llama", architecture=arch, bos_token_id=d.get("bos_token_id"),
        eos_token_id=eos if isinstance(eos, list) else ([] if eos is None else [eos]),
    )


def save_pretrained(model, out_dir, dtype="F32"):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config_to_hf(model.cfg), f, indent=2)
    sd = model.state_dict()
    if model.cfg.tie_word_embeddings:
        sd.pop("lm_head.weight", None)  # shared with model.embed_tokens.weight
    write_safetensors(os.path.join(out_dir, "model.safetensors"), sd, dtype)


def load_pretrained(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = config_from_hf(json.load(f))
    model = LlamaForCausalLM(cfg)
    sd = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    if cfg.tie_word_embeddings:
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    model.load_state_dict(sd, strict=True)
    return model.eval()
