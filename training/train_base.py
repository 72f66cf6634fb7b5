"""Train the default base model (the Llama of model.py) on the tokenized corpus.

    /usr/bin/python3 training/train_base.py [--key=value ...]      (npm run train:base -- --minutes=55)

Every default below can be overridden with --key=value. Loss: cross-entropy on the NPC completion
tokens (weight 1) plus `prompt_weight` on prompt tokens (0 = completion only); the reported
"loss" is always completion-only, so runs with different prompt weights compare. With --minutes the
cosine schedule is planned for the budget: after `plan_after` steps the step time is measured and
max_steps = budget / wall time per step (re-planned every 10 steps, since the machine is shared); the
planned max_steps is logged and saved, and passing it as --max_steps reproduces the run exactly.
Writes under out_dir: ckpt.pt (model args, run config, optimizer, sampler; --resume continues it),
log.jsonl (one line per logged step / eval), loss.json + loss.svg (the curve).
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overrides import apply_overrides, config_keys  # noqa: E402
from dataset import BucketedSampler, TokenizedCorpus  # noqa: E402
from model import LlamaConfig, LlamaForCausalLM  # noqa: E402
from plot import write_loss_plot  # noqa: E402
from hf_io import load_pretrained  # noqa: E402

# ---- defaults (override with --key=value) ----
train_data = "data/train"  # prefix of the npm run tokenize output
val_data = "data/heldout"
out_dir = "training/out/base"
vocab_size = 4096
hidden_size = 192
num_layers = 6
num_heads = 6
num_kv_heads = 2
intermediate_size = 512
rope_theta = 10000.0
context = 512
batch_size = 8  # samples per step (one sample per row, ~375 tokens each)
lr = 3e-3
min_lr = 3e-4
warmup_steps = 30
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0
history_weight = 1.0  # loss weight on earlier NPC turns in the prompt (same engine, valid targets); 0 = off
prompt_weight = 0.0  # loss weight on prompt tokens (completion tokens weigh 1); 0 = the head runs on completion positions only
max_steps = 0  # 0 = plan from --minutes
minutes = 0.0  # time budget; 0 = run max_steps
plan_after = 10  # steps timed before planning max_steps from the budget
eval_every = 50
eval_samples = 64  # held-out samples (fixed, first N) for validation loss
log_every = 10
seed = 1
threads = 2  # the real run used 1: on 2 cores shared with other jobs it was faster
resume = False
init_from = ""  # checkpoint (ckpt.pt) or exported model folder whose weights start this run (a fresh schedule and optimizer); "" = random init
init_std = 0.02
# ----

CONFIG_KEYS = config_keys(globals())


def parse_overrides(argv):
    apply_overrides(globals(), CONFIG_KEYS, argv)


def run_config():
    g = globals()
    return {k: g[k] for k in CONFIG_KEYS}


def make_model_config():
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=intermediate_size,
        num_hidden_layers=num_layers, num_attention_heads=num_heads, num_key_value_heads=num_kv_heads,
        rms_norm_eps=1e-5, rope_theta=rope_theta, max_position_embeddings=context,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=[8],  # 8 = <|end|>
    )


def init_weights(model, std):
    torch.manual_seed(seed)
    n_layers = model.cfg.num_hidden_layers
    for name, p in model.named_parameters():
        if p.dim() == 2:
            # GPT-2 style: residual output projections scaled down by depth.
            s = std / math.sqrt(2 * n_layers) if name.endswith(("o_proj.weight", "down_proj.weight")) else std
            torch.nn.init.normal_(p, 0.0, s)


def grow_into(model, src):
    """Copies the weights of `src` into `model`. Their configs must be equal, except that `model` may
    have more layers: those go on top of src's and start as the identity (their o_proj and down_proj
    zero, so each adds nothing to the residual stream until training moves them), so the grown model
    first computes exactly what src does. Returns how many layers were added."""
    a, b = dict(src.cfg.__dict__), dict(model.cfg.__dict__)
    n_src, n_dst = a.pop("num_hidden_layers"), b.pop("num_hidden_layers")
    if a != b or n_src > n_dst:
        raise SystemExit(f"--init_from: its model config {src.cfg.__dict__} differs from this run's {model.cfg.__dict__} "
                         "(only more layers than the source can be grown)")
    missing, unexpected = model.load_state_dict(src.state_dict(), strict=False)
    if unexpected or any(not k.startswith("model.layers.") for k in missing):
        raise SystemExit(f"--init_from: weights do not fit (missing {missing[:4]}, unexpected {unexpected[:4]})")
    with torch.no_grad():
        for layer in model.model.layers[n_src:]:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
    return n_dst - n_src


def hidden_states(model, ids):
    """Final-norm hidden states (B, T, H): model.forward with lm_head swapped for an identity, so
    the (T x vocab) head runs only on the positions that carry loss (most positions are prompt)."""
    head = model.lm_head
    model.lm_head = torch.nn.Identity()
    try:
        h, _ = model(ids)
    finally:
        model.lm_head = head
    return h


def loss_terms(model, ids, mask, pw, hw=0.0):
    """ids, mask (B, T) -> (weighted loss for backward, completion-only loss, completion tokens).
    Position t predicts token t+1; its weight is 1 if t+1 is a completion token (mask 1), hw if it
    is in an earlier NPC turn (mask 2), pw if it is another prompt token, 0 if padding (pad id 0
    never occurs inside a sample: tokenize never emits <|pad|>). The reported loss is the reply's only."""
    h = hidden_states(model, ids[:, :-1])
    tgt = ids[:, 1:]
    comp = (mask[:, 1:] == 1).float()
    hist = (mask[:, 1:] == 2).float()
    real = (tgt != 0).float()
    w = comp + hw * hist + pw * (real - comp - hist)
    sel = w.reshape(-1) > 0
    logits = model.lm_head(h.reshape(-1, h.shape[-1])[sel])  # (N, V) on weighted positions only
    ce = F.cross_entropy(logits, tgt.reshape(-1)[sel], reduction="none")
    ws, cs = w.reshape(-1)[sel], comp.reshape(-1)[sel]
    n_comp = cs.sum()
    return (ce * ws).sum() / ws.sum(), (ce * cs).sum() / n_comp.clamp(min=1), int(n_comp)


@torch.no_grad()
def evaluate(model, corpus, n):
    """Completion-only loss on the first n samples of `corpus` (fixed, so evals compare)."""
    model.eval()
    idx = list(range(min(n, len(corpus))))
    idx.sort(key=lambda i: corpus.lengths[i])
    tot, cnt = 0.0, 0
    for i in range(0, len(idx), 8):  # small batches: (B, heads, T, T) attention at B=32 thrashes memory
        ids, mask = corpus.batch(idx[i : i + 8], context)
        _, l, c = loss_terms(model, ids, mask, 0.0)
        tot += float(l) * c
        cnt += c
    model.train()
    return tot / max(cnt, 1)


def lr_at(step, total):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    frac = min(1.0, (step - warmup_steps) / max(1, total - warmup_steps))
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * frac))


def fmt_eta(s):
    s = max(0, int(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def main():
    global max_steps
    parse_overrides(sys.argv[1:])
    if max_steps <= 0 and minutes <= 0:
        raise SystemExit("give a budget: --minutes=M or --max_steps=N")
    torch.set_num_threads(threads)
    os.makedirs(out_dir, exist_ok=True)
    train = TokenizedCorpus(train_data)
    val = TokenizedCorpus(val_data) if val_data else None
    ckpt_path = os.path.join(out_dir, "ckpt.pt")

    cfg = make_model_config()
    model = LlamaForCausalLM(cfg)
    init_weights(model, init_std)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(beta1, beta2))
    sampler = BucketedSampler(train, batch_size, seed)
    step, tokens_seen, comp_seen, history, wall_before = 0, 0, 0, [], 0.0
    planned = max_steps
    if resume:
        if not os.path.exists(ckpt_path):
            raise SystemExit(f"--resume: {ckpt_path} not found")
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sampler.load_state(ck["sampler"])
        torch.set_rng_state(ck["torch_rng"])
        step, tokens_seen, comp_seen, history = ck["step"], ck["tokens_seen"], ck["completion_tokens_seen"], ck["history"]
        wall_before, planned = ck["wall_seconds"], ck["planned_steps"]
        print(f"resumed from {ckpt_path} at step {step} (planned {planned})", flush=True)
    elif init_from and os.path.isdir(init_from):
        # An exported model folder (config.json + model.safetensors), e.g. the committed assets/model.
        try:
            src = load_pretrained(init_from)
        except (OSError, KeyError, ValueError, RuntimeError) as e:
            raise SystemExit(f"--init_from {init_from}: not a loadable model folder (config.json + model.safetensors): {type(e).__name__}: {e}")
        grown = grow_into(model, src)
        print(f"weights from the exported model in {init_from}" + (f"; {grown} layers added on top, each starting as the identity" if grown else ""), flush=True)
    elif init_from:
        ck = torch.load(init_from)
        if ck["model_config"] != cfg.__dict__:
            raise SystemExit(f"--init_from {init_from}: its model config {ck['model_config']} differs from this run's {cfg.__dict__}")
        model.load_state_dict(ck["model"])
        print(f"weights from {init_from} (its step {ck['step']}, {ck['tokens_seen']:,} tokens seen)", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f}M params ({json.dumps(cfg.__dict__)})", flush=True)
    print(f"train: {len(train)} samples, {len(train.ids)} tokens; val: {len(val) if val else 0} samples", flush=True)
    log = open(os.path.join(out_dir, "log.jsonl"), "a")

    def save(final=False):
        ck = {"model": model.state_dict(), "optimizer": opt.state_dict(), "sampler": sampler.state(),
              "torch_rng": torch.get_rng_state(), "model_config": cfg.__dict__, "run_config": run_config(),
              "step": step, "planned_steps": planned, "tokens_seen": tokens_seen,
              "completion_tokens_seen": comp_seen, "history": history,
              "wall_seconds": wall_before + (time.time() - t0), "final": final, "params": n_params}
        torch.save(ck, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)
        write_loss_plot(history, os.path.join(out_dir, "loss"), title=f"base model, {n_params / 1e6:.1f}M params")

    def do_eval():
        v = evaluate(model, val, eval_samples) if val else float("nan")
        rec = {"step": step, "val_loss": v, "tokens": tokens_seen, "wall": round(wall_before + time.time() - t0, 1)}
        history.append(rec)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(f"step {step}: val loss {v:.4f} (completion tokens of {min(eval_samples, len(val)) if val else 0} held-out samples)", flush=True)
        return v

    t0, tokens_at_start = time.time(), tokens_seen
    budget_s = minutes * 60 - wall_before if minutes > 0 else float("inf")
    if step == 0 and val:
        do_eval()
    model.train()
    t_steps, run_losses, steps_timed, t_loop0 = 0.0, [], 0, time.time()
    while True:
        if planned > 0 and step >= planned:
            break
        elapsed = time.time() - t0
        if elapsed > budget_s:
            print(f"time budget reached at step {step}", flush=True)
            break
        total = planned if planned > 0 else 10 ** 9  # before planning: warmup only
        cur_lr = lr_at(step, total)
        for gr in opt.param_groups:
            gr["lr"] = cur_lr
        ts = time.time()
        ids, mask = train.batch(sampler.next(), context, history_turns=history_weight > 0)
        loss, comp_loss, n_comp = loss_terms(model, ids, mask, prompt_weight, history_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip))
        opt.step()
        dt = time.time() - ts
        step += 1
        n_tok = int((ids != 0).sum())
        tokens_seen += n_tok
        comp_seen += n_comp
        t_steps += dt
        steps_timed += 1
        run_losses.append(float(comp_loss))
        if minutes > 0 and max_steps <= 0 and (step == plan_after or (step > plan_after and step % 10 == 0)):
            # Wall time per step since the loop began, so evaluations and checkpoints are paid for.
            per_step = (time.time() - t_loop0) / steps_timed
            left = budget_s - (time.time() - t0)
            planned = step + max(1, int(left / per_step))
            if step == plan_after:
                print(f"planned {planned} steps from {per_step:.2f} s/step and {left / 60:.1f} min left", flush=True)
        if step % log_every == 0 or step == 1:
            tl = sum(run_losses) / len(run_losses)
            run_losses = []
            now = time.time()
            tok_s = (tokens_seen - tokens_at_start) / max(1e-9, now - t0)  # this run's average
            remaining = (planned - step) * (t_steps / steps_timed) if planned > 0 else float("nan")
            rec = {"step": step, "train_loss": tl, "lr": cur_lr, "grad_norm": gnorm, "tokens": tokens_seen,
                   "wall": round(wall_before + now - t0, 1)}
            history.append(rec)
            log.write(json.dumps(rec) + "\n")
            print(f"step {step}/{planned or '?'} loss {tl:.4f} lr {cur_lr:.2e} gnorm {gnorm:.2f} "
                  f"{tok_s:,.0f} tok/s {dt:.2f} s/step ETA {fmt_eta(remaining) if remaining == remaining else '?'}", flush=True)
        if step % eval_every == 0:
            do_eval()
            save()
    if not history or history[-1].get("val_loss") is None or history[-1]["step"] != step:
        do_eval()
    save(final=True)
    wall = wall_before + time.time() - t0
    summary = {"steps": step, "tokens_seen": tokens_seen, "completion_tokens_seen": comp_seen,
               "final_val_loss": history[-1]["val_loss"],
               "final_train_loss": next((h["train_loss"] for h in reversed(history) if "train_loss" in h), None),
               "wall_seconds": round(wall, 1), "params": n_params, "checkpoint": ckpt_path}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
