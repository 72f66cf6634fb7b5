"""Loss curve as JSON + a self-contained SVG (no matplotlib needed).

history: [{"step", "train_loss"?, "val_loss"?, ...}]; writes <prefix>.json and <prefix>.svg.
x = step, y = loss (completion tokens, nats/token), train in blue, held-out in orange.
"""
import json


def write_loss_plot(history, prefix, title="loss"):
    with open(prefix + ".json", "w") as f:
        json.dump({"title": title, "history": history}, f)
    train = [(h["step"], h["train_loss"]) for h in history if "train_loss" in h]
    val = [(h["step"], h["val_loss"]) for h in history if "val_loss" in h and h["val_loss"] == h["val_loss"]]
    # Optional third curve: held-out loss with another scene's picture (training/vision/train_grounding.py).
    other = [(h["step"], h["val_loss_shuffled"]) for h in history if "val_loss_shuffled" in h]
    pts = train + val + other
    if not pts:
        return
    W, H, L, R, T, B = 720, 420, 60, 20, 40, 50
    x1 = max(1, max(p[0] for p in pts))
    ys = [p[1] for p in pts]
    y0, y1 = max(0.0, min(ys) - 0.1), min(max(ys), 12.0) + 0.1  # clip the first-step spike above 12

    def X(s):
        return L + (W - L - R) * s / x1

    def Y(v):
        return T + (H - T - B) * (1 - (min(v, y1) - y0) / (y1 - y0))

    def line(points, color):
        if not points:
            return ""
        d = " ".join(f"{X(s):.1f},{Y(v):.1f}" for s, v in points)
        return f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{d}"/>'

    ticks = []
    for i in range(6):
        v = y0 + (y1 - y0) * i / 5
        ticks.append(f'<line x1="{L}" x2="{W - R}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#ddd"/>'
                     f'<text x="{L - 6}" y="{Y(v) + 4:.1f}" text-anchor="end" font-size="11">{v:.2f}</text>')
        s = x1 * i / 5
        ticks.append(f'<text x="{X(s):.1f}" y="{H - B + 16}" text-anchor="middle" font-size="11">{int(s)}</text>')
    last_v = f"held-out {val[-1][1]:.3f}" if val else ""
    last_t = f"train {train[-1][1]:.3f}" if train else ""
    last_o = f"held-out, another scene's view {other[-1][1]:.3f}" if other else ""
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">'
           f'<rect width="{W}" height="{H}" fill="white"/>' + "".join(ticks) +
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>'
           f'<text x="{W / 2}" y="{H - 12}" text-anchor="middle" font-size="12">step</text>'
           f'<text x="14" y="{H / 2}" font-size="12" transform="rotate(-90 14 {H / 2})" text-anchor="middle">loss (nats/token, completion)</text>'
           + line(train, "#1f77b4") + line(val, "#ff7f0e") + line(other, "#2ca02c") +
           f'<text x="{W - R - 4}" y="{T + 14}" text-anchor="end" font-size="12" fill="#1f77b4">{last_t}</text>'
           f'<text x="{W - R - 4}" y="{T + 30}" text-anchor="end" font-size="12" fill="#ff7f0e">{last_v}</text>'
           f'<text x="{W - R - 4}" y="{T + 46}" text-anchor="end" font-size="12" fill="#2ca02c">{last_o}</text></svg>')
    with open(prefix + ".svg", "w") as f:
        f.write(svg)
