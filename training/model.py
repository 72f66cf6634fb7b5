"""A small, readable Llama-family decoder (Llama / SmolLM / Qwen2 / Mistral without sliding window).

It is the reference the ONNX graph is checked against and the model we train, so it stays direct:
one config dataclass, RMSNorm, rotary embedding, attention with GQA and a KV cache, SiLU-gated MLP.
Parameter names follow Hugging Face (model.layers.{i}.self_attn.q_proj.weight, ...) so hf_io.py can
read and write checkpoints without a name map.
"""
from dataclasses import dataclass, field
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class LlamaConfig:
    vocab_size: int = 49152
    hidden_size: int = 576
    intermediate_size: int = 1536
    num_hidden_layers: int = 30
    num_attention_heads: int = 9
    num_key_value_heads: int = 3
    head_dim: int = 0  # 0 = hidden_size // num_attention_heads
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    max_position_embeddings: int = 2048
    tie_word_embeddings: bool = True
    attention_bias: bool = False  # q/k/v bias (Qwen2: always, and no o bias)
    output_bias: bool = False  # o_proj bias (Llama with attention_bias=True)
    architecture: str = "llama"  # llama | qwen2 | mistral
    bos_token_id: int = 1
    eos_token_id: list = field(default_factory=lambda: [2])

    def __post_init__(self):
        if self.head_dim == 0:
            self.head_dim = self.hidden_size // self.num_attention_heads


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotary_tables(cfg, position_ids):
    """cos, sin for position_ids (B, T) -> (B, 1, T, hd). inv_freq is computed in float64 and
    rounded once to float32 (the ONNX builder does the same, so both agree to the bit)."""
    hd = cfg.head_dim
    inv_freq = (1.0 / cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)).float()
    angle = position_ids.float()[:, :, None] * inv_freq[None, None, :]  # (B, T, hd/2)
    emb = torch.cat([angle, angle], dim=-1)  # (B, T, hd)
    return emb.cos()[:, None], emb.sin()[:, None]


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        nh, kvh, hd, H = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.hidden_size
        self.q_proj = nn.Linear(H, nh * hd, bias=cfg.attention_bias)
        self.k_proj = nn.Linear(H, kvh * hd, bias=cfg.attention_bias)
        self.v_proj = nn.Linear(H, kvh * hd, bias=cfg.attention_bias)
        self.o_proj = nn.Linear(nh * hd, H, bias=cfg.output_bias)

    def forward(self, x, cos, sin, mask, past=None):
        # x (B, T, H); cos/sin (B, 1, T, hd); mask (B, 1, T, S) additive; past = (k, v) each (B, kvh, P, hd)
        cfg = self.cfg
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, cfg.num_attention_heads, cfg.head_dim).transpose(1, 2)  # (B, nh, T, hd)
        k = self.k_proj(x).view(B, T, cfg.num_key_value_heads, cfg.head_dim).transpose(1, 2)  # (B, kvh, T, hd)
        v = self.v_proj(x).view(B, T, cfg.num_key_value_heads, cfg.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)  # (B, kvh, S, hd)
        rep = cfg.num_attention_heads // cfg.num_key_value_heads
        k = k.repeat_interleave(rep, dim=1)  # (B, nh, S, hd): query head h uses kv head h // rep
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(cfg.head_dim) + mask  # (B, nh, T, S)
        y = F.softmax(att, dim=-1) @ v  # (B, nh, T, hd)
        y = y.transpose(1, 2).reshape(B, T, -1)
        return self.o_proj(y), present


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask, past=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class Decoder(nn.Module):
    """The `model.` part: embeddings, blocks, final norm."""

    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Decoder(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):
        # GPT-2 / nanoGPT style: N(0, 0.02) weights, zero biases; RMSNorm weights stay at 1.
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, ids, attention_mask=None, position_ids=None, past=None, targets=None, inputs_embeds=None):
        """ids (B, T) -> logits (B, T, V), presents [(k, v)] per layer; with `targets` (B, T) the
        mean next-token cross-entropy is returned instead of the presents (-100 = ignore).
        `inputs_embeds` (B, T, H), when given, is used instead of embedding `ids` (visual tokens
        spliced in at <|image|> placeholders: training/vision/).
        attention_mask (B, P+T) of 1/0 (left padding allowed); position_ids (B, T), by default
        counted from the first attended token of each row."""
        B, T = ids.shape
        P = past[0][0].shape[2] if past is not None else 0
        S = P + T
        if attention_mask is None:
            attention_mask = torch.ones(B, S, dtype=torch.long)
        if position_ids is None:
            position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, P:]
        causal = torch.arange(S)[None, :] <= torch.arange(P, S)[:, None]  # (T, S)
        allowed = causal[None] & attention_mask.bool()[:, None, :]  # (B, T, S)
        mask = torch.zeros(B, 1, T, S).masked_fill(~allowed[:, None], -1e9)
        cos, sin = rotary_tables(self.cfg, position_ids)
        x = self.model.embed_tokens(ids) if inputs_embeds is None else inputs_embeds
        presents = []
        for i, layer in enumerate(self.model.layers):
            x, present = layer(x, cos, sin, mask, past[i] if past is not None else None)
            presents.append(present)
        logits = self.lm_head(self.model.norm(x))
        if targets is not None:
            return logits, F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
        return logits, presents

    @torch.no_grad()
    def greedy(self, ids, steps):
        """Prefill `ids` (1, T), then `steps` cached decode steps. Returns (tokens, [logits per step])."""
        logits, past = self(ids)
        out_logits, tokens = [logits[0]], []
        for _ in range(steps):
            tok = int(logits[0, -1].argmax())
            tokens.append(tok)
            S = past[0][0].shape[2]
            logits, past = self(torch.tensor([[tok]]), position_ids=torch.tensor([[S]]), past=past)
            out_logits.append(logits[0])
        return tokens, out_logits
