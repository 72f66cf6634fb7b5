import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { hasTorch, PYTHON } from "./python.ts";

// The answer and prompt formats train_grounding.py offers for the reading curriculum
// (training/vision/README.md): --key_first (the key right after the mood tag, and the lesson's
// answer that opening alone) and --view_first (the view ahead of the persona block), checked on
// question records shaped as training/vision/questions.ts writes them. Needs python3-torch.
const VIEW = "<|image|>".repeat(16) + "\n";
const persona = "<|persona|>You are Aldric Thorne, the guard.\n- The gate opens at dawn.\n";
const q = (type: string, key: string | string[], answer: string) =>
  ({ view: 3, npc: "aldric", type, key, answer, question: "what colour is the crate?", prompt: `${persona}${VIEW}<|player|>what colour is the crate?<|end|>\n<|npc|>` });
const RECORDS = [
  q("colour", "grey", "[mood:calm] It is grey. A grey crate."),
  q("depth", "front", "[mood:calm] The white sack is in front of the grey crate, citizen."),
  q("colour", "none", "[mood:cheerful] Oh, no bucket here, love!"),
  q("nearest", "yellow crate", "[mood:calm] The yellow crate, citizen."),
  q("what_see", ["grey crate", "white sack"], "[mood:calm] A grey crate and a white sack."),
];

// Runs the formats in Python and returns what they made, so the test reads the trainer's own code.
function formats(): { keyed: ({ answer: string } | null)[]; lesson: ({ answer: string; prompt: string } | null)[]; first: string[]; inserted: number[] } {
  const script = `
import json, sys
sys.path.insert(0, "training"); sys.path.insert(0, "training/vision")
import numpy as np
import train_grounding as tg
recs = json.loads(sys.stdin.read())
nl = 10
ids = np.array([1, 50, 51, 3, 60, 8], dtype=np.int64); mask = np.zeros(6, np.uint8)
print(json.dumps({
  "keyed": [tg.key_first(r) for r in recs],
  "lesson": [tg.key_first(r, short=True) for r in recs],
  "first": [tg.view_first(recs[0]["prompt"]), tg.view_first(tg.view_first(recs[0]["prompt"])), tg.view_first("<|persona|>x\\n<|player|>hi<|end|>\\n<|npc|>")],
  "inserted": tg.with_view(ids, mask, nl, first=True)[0].tolist()[:18] + tg.with_view(ids, mask, nl)[0].tolist()[:4],
}))`;
  return JSON.parse(execFileSync(PYTHON, ["-c", script], { input: JSON.stringify(RECORDS), encoding: "utf8" }));
}

describe("grounding curriculum formats (train_grounding.py)", () => {
  it.skipIf(!hasTorch())("--key_first opens with the key, the lesson is that opening, --view_first moves the view once", () => {
    const f = formats();
    expect(f.keyed.map((r) => r?.answer)).toEqual([
      "[mood:calm] Grey. It is grey. A grey crate.",
      "[mood:calm] In front. The white sack is in front of the grey crate, citizen.",
      "[mood:cheerful] None seen. Oh, no bucket here, love!",
      "[mood:calm] Yellow crate. The yellow crate, citizen.",
      "[mood:calm] A grey crate and a white sack.", // lists are left as they are
    ]);
    expect(f.lesson.map((r) => r?.answer ?? null)).toEqual(["[mood:calm] Grey.", "[mood:calm] In front.", "[mood:cheerful] None seen.", "[mood:calm] Yellow crate.", null]);
    // The lesson is the view and the question only: no persona block.
    expect(f.lesson[0]!.prompt).toBe(`${VIEW}<|player|>what colour is the crate?<|end|>\n<|npc|>`);
    // The view goes ahead of the persona, once; a prompt without a view is left alone.
    expect(f.first[0]).toBe(`${VIEW}${persona}<|player|>what colour is the crate?<|end|>\n<|npc|>`);
    expect(f.first[1]).toBe(f.first[0]);
    expect(f.first[2]).toBe("<|persona|>x\n<|player|>hi<|end|>\n<|npc|>");
    // Dialogue samples: 16 image ids and a newline at the start, or before the first context marker.
    expect(f.inserted.slice(0, 18)).toEqual([...new Array(16).fill(9), 10, 1]);
    expect(f.inserted.slice(18)).toEqual([1, 50, 51, 9]);
  });
});
