import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { checkFor } from "../../core/prompt/checks.ts";
import { factAliases } from "../../core/prompt/context.ts";
import { loadCards, loadScene } from "./world.ts";

// npm run eval:lore-coverage -- --data data/heldout.jsonl [--data more.jsonl] [--scene scenes/village.json] [--out training/results/lore-coverage.json]
// Where the text path's checks (core/prompt/checks.ts) apply, measured on data-engine samples whose
// intent is known (drawn in `--scene`, no scene variants): per intent, how many lines are checked,
// by which check, and of those how many the sample's own (correct) reply would fail. Fact,
// villager, rumour, quest and introduce lines are the lore check's (core/prompt/lore-check.ts);
// price, buy, haggle and goods-list lines the trade check's (trade-check.ts); emote, turn, walk and
// point lines the act check's (act-check.ts); nearby, what-is and directions lines the near check's
// (near-check.ts). A check elsewhere (a greeting, an out-of-world question, an insult) is a line it
// should have left to the model. One JSON line last.

function parseArgs(argv: string[]) {
  const a = { data: [] as string[], scene: "scenes/village.json", out: "training/results/lore-coverage.json", show: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const f = argv[i], v = argv[i + 1];
    if (v === undefined) throw new Error(`${f} needs a value`);
    if (f === "--data") a.data.push(v);
    else if (f === "--scene") a.scene = v;
    else if (f === "--out") a.out = v;
    else if (f === "--show") a.show = Number(v);
    else throw new Error(`unknown option "${f}"; usage: npm run eval:lore-coverage -- --data FILE.jsonl [--scene FILE] [--out FILE] [--show N]`);
  }
  if (a.data.length === 0) throw new Error("--data FILE.jsonl is needed (a data engine split: npm run data -- --out DIR)");
  return a;
}

const FOR_LORE = new Set(["fact", "villager", "rumour", "quest", "introduce"]);
const FOR_TRADE = new Set(["price", "buy", "haggle", "goods_list", "repair"]);
const FOR_ACT = new Set(["emote", "turn", "walk", "point"]);
const FOR_NEAR = new Set(["nearby", "what_is", "directions"]);

function main() {
  const a = parseArgs(process.argv.slice(2));
  const cards = loadCards(process.cwd());
  const scene = loadScene(a.scene, process.cwd());
  const aliases = factAliases(scene);
  const by: Record<string, { lines: number; checked: number; own_reply_fails: number; kinds: Record<string, number> }> = {};
  const misses: string[] = [];
  for (const file of a.data) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const s = JSON.parse(line) as { npc: string; intent: string; say: string; state?: string; prompt?: string; completion: string };
      const card = cards.get(s.npc);
      if (!card) continue;
      const b = (by[s.intent] ??= { lines: 0, checked: 0, own_reply_fails: 0, kinds: {} });
      b.lines++;
      const check = checkFor(card, s.say, { prompt: s.prompt ?? "", scene, bySight: false, sight: false, text: true, aliases, state: s.state ?? "" });
      if (!check) continue;
      b.checked++;
      b.kinds[check.kind] = (b.kinds[check.kind] ?? 0) + 1;
      const d = check.agrees(s.completion);
      if (d.length > 0) {
        b.own_reply_fails++;
        misses.push(`${check.kind}: ${s.intent} ${s.npc} ${JSON.stringify(s.say)} → ${s.completion.replace(/<\|end\|>$/, "")} | ${d[0]}`);
      }
    }
  }
  for (const m of misses.slice(0, a.show)) process.stderr.write(m + "\n");
  const sum = (keep: (k: string) => boolean, f: "lines" | "checked" | "own_reply_fails") => Object.entries(by).filter(([k]) => keep(k)).reduce((n, [, v]) => n + v[f], 0);
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const groups: [string, Set<string>][] = [["lore", FOR_LORE], ["trade", FOR_TRADE], ["act", FOR_ACT], ["near", FOR_NEAR]];
  const other = (k: string) => groups.every(([, set]) => !set.has(k));
  /** A group's lines, the share checked and the share of those the samples' own replies fail. */
  const figures = (g: string, keep: (k: string) => boolean) => ({
    [`${g}_lines`]: sum(keep, "lines"),
    [`${g}_checked`]: r4(sum(keep, "checked") / Math.max(1, sum(keep, "lines"))),
    [`${g}_own_reply_fails`]: r4(sum(keep, "own_reply_fails") / Math.max(1, sum(keep, "checked"))),
  });
  const summary = {
    samples: sum(() => true, "lines"),
    ...Object.assign({}, ...groups.map(([g, set]) => figures(g, (k) => set.has(k)))),
    other_lines: sum(other, "lines"),
    other_checked: r4(sum(other, "checked") / Math.max(1, sum(other, "lines"))),
    by_intent: Object.fromEntries(Object.entries(by).sort(([x], [y]) => x.localeCompare(y))),
  };
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(a.out, JSON.stringify(summary, null, 1) + "\n");
  console.log(JSON.stringify(summary));
}

main();
