// What an NPC sees from the scene graph (core/vision/seen.ts), the prompt built from it
// (core/prompt/context.ts `sight`), the training samples that teach reading it
// (training/vision/sight-data.ts) and the vision package's "reads its views" record.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCharacterCardJson } from "../core/character/schema.ts";
import { assemblePrompt } from "../core/prompt/context.ts";
import { Scene, type SceneObject } from "../core/scene/schema.ts";
import { readsViews, type VisionManifest } from "../core/vision/manifest.ts";
import { nearbyFacts } from "../core/prompt/nearby.ts";
import { nearInAnswer, sightAnswerLine } from "../core/vision/ask.ts";
import { colourWordsIn } from "../core/vision/vocab.ts";
import { NOTHING_IN_SIGHT, personSolid, sightFacts, sightNearby, sightOfViews } from "../core/vision/seen.ts";
import { record } from "../training/vision/render.ts";
import { generateView } from "../training/vision/scenes.ts";
import { sceneRecords, sightPromptFor, sceneOfRecord } from "../training/vision/sight-data.ts";
import { questionsFor } from "../training/vision/questions.ts";
import { loadCards } from "../training/eval/world.ts";
import { Rng } from "../training/data/rng.ts";
import { makeScenario, PROMPT_BUDGET } from "../training/data/sample.ts";
import { loadWorld } from "../training/data/world.ts";
import { answersFromSight } from "../core/vision/sight.ts";

const RGB: Record<string, [number, number, number]> = { red: [0.72, 0.18, 0.15], blue: [0.2, 0.4, 0.7], green: [0.25, 0.55, 0.25] };
const prop = (id: string, kind: "barrel" | "crate", colour: string, at: [number, number]): SceneObject => Scene.parse({
  name: "t", ground: { size: [40, 40] }, spawns: [{ position: [0, 0, 0] }], npcs: [],
  objects: [{
    id, name: `${colour} ${kind}`, tags: [kind, colour], movable: true, mass: 20,
    shape: kind === "barrel" ? { kind: "cylinder", radius: 0.4, height: 1 } : { kind: "box", size: [0.9, 0.9, 0.9] },
    position: [at[0], 0.5, at[1]], colour: RGB[colour],
  }],
}).objects[0];

// The NPC at the origin looks along +Z; +X is its right.
const pose = { position: [0, 0, 0] as [number, number, number], facing: 0 };

describe("sightFacts: what is in view, from the scene graph", () => {
  it("lists props in front (nearest first, left or right of the NPC's view), not those behind", () => {
    const objects = [
      prop("barrel-far", "barrel", "red", [1.5, 9]),
      prop("crate-near", "crate", "blue", [-1, 4]),
      prop("barrel-behind", "barrel", "green", [0, -4]),
    ];
    const seen = sightFacts(objects, pose);
    expect(seen.map((f) => [f.id, f.label, f.side])).toEqual([["crate-near", "blue crate", "left"], ["barrel-far", "red barrel", "right"]]);
    expect(seen[0].depth).toBeLessThan(seen[1].depth);
  });

  it("a person standing in the way hides a prop", () => {
    const objects = [prop("barrel-1", "barrel", "red", [0, 5])];
    expect(sightFacts(objects, pose).map((f) => f.id)).toEqual(["barrel-1"]);
    expect(sightFacts(objects, pose, [personSolid("guard", [0, 0, 2])])).toEqual([]);
  });

  it("marks the usual nearby lines that are in view, adds in-view props beyond them, or says none is", () => {
    const objects = [
      prop("crate-near", "crate", "blue", [-1, 4]),
      prop("barrel-behind", "barrel", "green", [0, -3]),
      prop("barrel-far", "barrel", "red", [1.5, 11]),
    ];
    const scene = { objects } as unknown as Parameters<typeof nearbyFacts>[0];
    const usual = nearbyFacts(scene, pose, { max: 2 });
    expect(usual.map((f) => f.id)).toEqual(["barrel-behind", "crate-near"]);
    const lines = sightNearby(usual, sightFacts(objects, pose), objects, pose);
    expect(lines).toEqual([
      "in sight, nearest first: blue crate on the left, red barrel on the right; one barrel, one crate, no sacks, no buckets",
      "barrel-behind: green barrel, 3 m behind (south)",
      "crate-near: blue crate, 4 m ahead (north), in sight on the left",
      "barrel-far: red barrel, 11 m ahead (north), in sight on the right",
    ]);
    expect(sightNearby(usual, [], objects, pose)[0]).toBe(NOTHING_IN_SIGHT);
    expect(NOTHING_IN_SIGHT).toBe("in sight: no barrels, crates, sacks, buckets");
  });
});

describe("assemblePrompt with sight", () => {
  const village = Scene.parse(JSON.parse(readFileSync("scenes/village.json", "utf8")));
  const card = parseCharacterCardJson(readFileSync("adapters/brom/character.json", "utf8"), "brom");
  const brom = village.npcs.find((n) => n.id === "brom")!;
  const bromPose = { position: brom.position, facing: brom.facing };
  const count = (s: string) => Math.ceil(s.length / 3);

  it("keeps the usual nearby lines and marks what is in view", () => {
    const say = "what do you see?";
    const sight = sightFacts(village.objects, bromPose);
    expect(sight.length).toBeGreaterThan(0); // the village puts props in Brom's view
    // A budget nothing is trimmed under (trimming drops nearby lines from the end).
    const withSight = assemblePrompt({ card, scene: village, npcId: "brom", pose: bromPose, say, sight }, count, 4000).parts.nearby;
    const plain = assemblePrompt({ card, scene: village, npcId: "brom", pose: bromPose, say }, count, 4000).parts.nearby;
    // The question worked out first (core/vision/ask.ts), the summary, then every usual line, in
    // order, marked when its object is in view.
    // "What do you see?" also names the nearest thing not in view: the first usual line that is
    // neither the player nor a prop in sight.
    expect(withSight[0].startsWith(`${sightAnswerLine(say, sight)}; near: the `)).toBe(true);
    const near = withSight[0].split("; near: the ")[1];
    const firstOther = plain.find((l) => !l.startsWith("player:") && !sight.some((f) => l.startsWith(`${f.id}:`)))!;
    expect(firstOther.split(": ")[1].startsWith(`${near},`) || firstOther.split(": ")[1].startsWith(`${near} `)).toBe(true);
    expect(withSight[1]).toMatch(/^in sight, nearest first: /);
    plain.forEach((l, i) => expect(withSight[i + 2].startsWith(l)).toBe(true));
    const marked = withSight.filter((l) => / in sight on the (left|right)$/.test(l)).map((l) => l.split(":")[0]);
    expect(marked.sort()).toEqual(sight.map((f) => f.id).sort());
    expect(plain.some((l) => l.includes("in sight"))).toBe(false);
  });
});

describe("data:sight samples", () => {
  it("as the eyes see them (--eyes-share): the scene's props leave the nearby lines, the summary holds what is in view", () => {
    const cards = loadCards(process.cwd());
    const records = Array.from({ length: 12 }, (_, i) => record(i, "generated", generateView(78 * 1_000_003 + i)));
    const qa = questionsFor(records, cards, { split: "train", perView: 2, seed: 1, promptFor: sightPromptFor(sceneOfRecord(), { fromEyes: (r) => sightOfViews(r.props) }) });
    expect(qa.length).toBeGreaterThan(10);
    for (const q of qa) {
      const r = records[q.view];
      for (const p of r.props) expect(q.prompt).not.toContain(`- ${p.id}: `);
      const vis = r.props.filter((p) => p.visible);
      // The other nearby lines' colours (what a colour asked alone may be about besides the props).
      const others = q.prompt.split("<|player|>")[0].split("\n").filter((l) => /^- [\w-]+: /.test(l) && !l.includes(", in sight on the") && !l.startsWith("- player:"));
      const elsewhere = new Set(others.flatMap((l) => colourWordsIn(l.slice(l.indexOf(":") + 1).split(/, \d+ m |, here/)[0])));
      const answer = sightAnswerLine(q.question, sightOfViews(r.props), nearInAnswer(q.prompt) ?? undefined, elsewhere);
      expect(q.prompt).toContain(`<|near|>- ${answer ? `${answer}\n- ` : ""}${vis.length ? "in sight, nearest first: " : NOTHING_IN_SIGHT}`);
    }
  });

  it("ask the grounding questions with the view's sight lines in place of its picture", () => {
    const cards = loadCards(process.cwd());
    const records = Array.from({ length: 12 }, (_, i) => record(i, "generated", generateView(77 * 1_000_003 + i)));
    const qa = questionsFor(records, cards, { split: "train", perView: 3, seed: 1, promptFor: sightPromptFor(sceneOfRecord()) });
    expect(qa.length).toBeGreaterThan(20);
    for (const q of qa) {
      expect(q.prompt).not.toContain("<|image|>");
      const vis = records[q.view].props.filter((p) => p.visible);
      if (vis.length === 0) expect(q.prompt).toContain(`- ${NOTHING_IN_SIGHT}\n`);
      else {
        // The summary line: the nearest visible prop first, and its kind counted.
        const summary = q.prompt.split("\n").find((l) => l.includes("- in sight, nearest first: "));
        const near = [...vis].sort((a, b) => a.depth - b.depth)[0];
        expect(summary).toContain(`nearest first: ${near.colour} ${near.kind} on the ${near.side}`);
        const n = vis.filter((p) => p.kind === near.kind).length;
        if (n <= 8) expect(summary).toMatch(new RegExp(`; .*\\b${["no", "one", "two", "three", "four", "five", "six", "seven", "eight"][n]} ${near.kind}`));
      }
      // Each prop in view is in the summary; its own line (when the budget kept it) is marked.
      for (const p of vis) {
        if (vis.length <= 8) expect(q.prompt).toMatch(new RegExp(`- in sight, nearest first: .*${p.colour} ${p.kind} on the ${p.side}`));
        if (q.prompt.includes(`- ${p.id}: `)) expect(q.prompt).toMatch(new RegExp(`- ${p.id}: ${p.colour} ${p.kind}, .*, in sight on the ${p.side}\n`));
      }
      // Props not in view are never marked.
      for (const p of records[q.view].props.filter((x) => !x.visible)) expect(q.prompt).not.toMatch(new RegExp(`- ${p.id}: .*in sight`));
    }
  });
});

describe("side questions as players ask them", () => {
  it("training asks about a kind alone and about things out of view; held-out questions stay about one prop in view", () => {
    const cards = loadCards(process.cwd());
    const records = Array.from({ length: 150 }, (_, i) => record(i, "generated", generateView(78 * 1_000_003 + i)));
    const promptFor = sightPromptFor(sceneOfRecord());
    const side = (split: string) => questionsFor(records, cards, { split, perView: 9, seed: 3, promptFor }).filter((q) => q.type === "side");
    const train = side("train"), heldout = side("heldout");
    const answerOf = (q: { prompt: string }) => q.prompt.split("\n").find((l) => l.includes("sight answer: "))!;
    const absent = train.filter((q) => q.key === "none");
    expect(absent.length).toBeGreaterThan(0);
    for (const q of absent) {
      expect(answerOf(q)).toMatch(/sight answer: no [a-z ]+ in sight$/);
      expect(q.answer.toLowerCase()).toMatch(/\b(no|none|don't)\b/);
    }
    // "where's the barrel?" with one barrel in view: the side, as the answer line gives it.
    const kindAlone = train.filter((q) => typeof q.key === "string" && q.key !== "none" && !/\b(red|blue|green|yellow|brown|grey|white|purple)\b/.test(q.question.toLowerCase()));
    expect(kindAlone.length).toBeGreaterThan(0);
    for (const q of kindAlone) expect(answerOf(q)).toContain(`is on the ${q.key}`);
    for (const q of heldout) {
      expect(["left", "right"]).toContain(q.key);
      expect(answerOf(q)).toContain(`is on the ${q.key}`);
    }
  });
});

describe("'what do you see?' as players put it", () => {
  it("training composes the question (all read as asking for the whole view, none a held-out phrasing)", () => {
    const cards = loadCards(process.cwd());
    const records = Array.from({ length: 200 }, (_, i) => record(i, "generated", generateView(80 * 1_000_003 + i)));
    const see = (split: string) => questionsFor(records, cards, { split, perView: 9, seed: 5, promptFor: sightPromptFor(sceneOfRecord()) }).filter((q) => q.type === "what_see");
    const heldoutPhrasings = new Set(see("heldout").map((q) => q.question.toLowerCase().replace(/[^a-z' ]/g, "").trim()));
    const train = see("train");
    const kinds = new Set(train.map((q) => q.question.toLowerCase().replace(/[^a-z' ]/g, "").trim()));
    expect(kinds.size).toBeGreaterThan(40);
    for (const q of train) {
      expect(heldoutPhrasings.has(q.question.toLowerCase().replace(/[^a-z' ]/g, "").trim())).toBe(false);
      expect(q.prompt).toContain("<|near|>- sight answer: ");
    }
  });
});

describe("questions in a conversation", () => {
  it("training now and then puts an earlier question and reply about the same view before the question; held-out never", () => {
    const cards = loadCards(process.cwd());
    const records = Array.from({ length: 60 }, (_, i) => record(i, "generated", generateView(81 * 1_000_003 + i)));
    const qa = (split: string) => questionsFor(records, cards, { split, perView: 3, seed: 6, promptFor: sightPromptFor(sceneOfRecord()) });
    const train = qa("train");
    const turns = (p: string) => p.split("<|player|>").length - 1;
    const followUps = train.filter((q) => turns(q.prompt) === 2);
    // (the prompt budget drops the earlier exchange when the nearby lines fill it, as in the game)
    expect(followUps.length).toBeGreaterThan(train.length / 20);
    for (const q of followUps) {
      const before = train[train.indexOf(q) - 1];
      expect(before.view).toBe(q.view);
      expect(q.prompt).toContain(`<|player|>${before.question}<|end|>\n<|npc|>${before.answer}<|end|>`);
      expect(q.prompt.endsWith(`<|player|>${q.question}<|end|>\n<|npc|>`)).toBe(true);
    }
    expect(qa("heldout").every((q) => turns(q.prompt) === 1)).toBe(true);
  });
});

describe("a colour no prop has", () => {
  it("training answers none only under an answer line saying so; held-out questions keep asking", () => {
    const cards = loadCards(process.cwd());
    const records = Array.from({ length: 300 }, (_, i) => record(i, "generated", generateView(79 * 1_000_003 + i)));
    const promptFor = sightPromptFor(sceneOfRecord());
    const none = (split: string) => questionsFor(records, cards, { split, perView: 9, seed: 4, promptFor }).filter((q) => q.type === "kind" && q.key === "none");
    const train = none("train"), heldout = none("heldout");
    expect(train.length).toBeGreaterThan(0);
    for (const q of train) expect(q.prompt).toMatch(/<\|near\|>- sight answer: no (red|blue|green|yellow|brown|grey|white|purple) thing in sight\n/);
    // Held out, they are asked whether or not a landmark has the colour (eval:grounding scores "none").
    expect(heldout.some((q) => !q.prompt.includes("sight answer: "))).toBe(true);
  });
});

describe("data:sight --scene", () => {
  it("asks the questions in a real scene, from its NPCs' posts, in their voices, among its landmarks", () => {
    const cards = loadCards(process.cwd());
    const records = sceneRecords("scenes/village.json", 60, 5);
    expect(records.length).toBe(60);
    expect(new Set(records.map((r) => r.source))).toEqual(new Set(["scene:village"]));
    const qa = questionsFor(records, cards, { split: "train", perView: 3, seed: 2, promptFor: sightPromptFor(sceneOfRecord()) });
    expect(qa.length).toBeGreaterThan(40);
    // Each question is put to the NPC whose view it is, and its prompt is that NPC's, at its post.
    for (const q of qa) {
      expect(q.npc).toBe(records[q.view].npc.id);
      expect(q.prompt).toContain(`You are ${cards.get(q.npc)!.name}`);
    }
    expect(qa.some((q) => /- well: /.test(q.prompt) || /- forge: /.test(q.prompt))).toBe(true);
    // A colour no prop has is answered "none" only when no nearby line has it (a landmark may).
    for (const q of qa.filter((q) => q.type === "kind" && q.key === "none")) expect(q.prompt).toMatch(/- sight answer: no \w+ thing in sight\n/);
    // Questions about props get their worked-out answer line.
    expect(qa.filter((q) => q.type !== "pope" && q.prompt.includes("sight answer: ")).length).toBeGreaterThan(qa.length / 2);
  });
});

describe("data engine --sight-lines", () => {
  it("marks what is in view for lines about sight only; other lines and runs without it are as before", () => {
    const world = loadWorld(".");
    let sightSeen = 0, other = 0;
    for (let i = 0; i < 60; i++) {
      const a = makeScenario(world, new Rng(`s${i}`), "train", `s${i}`, { sightLines: true, intent: i % 2 ? "what_is" : "greet" });
      const b = makeScenario(world, new Rng(`s${i}`), "train", `s${i}`, { intent: i % 2 ? "what_is" : "greet" });
      if (!a || !b) continue;
      expect(a.sample.say).toBe(b.sample.say); // the option draws nothing
      if (answersFromSight(a.sample.say)) {
        if (a.sample.tokens > PROMPT_BUDGET - 24) continue; // nearby lines trimmed from the end to fit
        sightSeen++;
        expect(a.sample.prompt).toMatch(/in sight on the (left|right)\n|- in sight: no barrels/);
        expect(b.sample.prompt).not.toContain("in sight");
      } else {
        other++;
        expect(a.sample.prompt).toBe(b.sample.prompt);
      }
    }
    expect(sightSeen).toBeGreaterThan(5);
    expect(other).toBeGreaterThan(5);
  });
});

describe("readsViews", () => {
  const base = { format: 1 } as unknown as VisionManifest;
  it("trusts a package's eyes only when its recorded accuracy beats blind by the margin", () => {
    expect(readsViews(base)).toBe(false);
    expect(readsViews({ ...base, grounding: { accuracy: 0.3132, blind_accuracy: 0.3115, questions: 3464 } })).toBe(false);
    expect(readsViews({ ...base, grounding: { accuracy: 0.62, blind_accuracy: 0.31, questions: 3464 } })).toBe(true);
  });
  it("with a detector, trusts the visual tokens by the questions they answered (grounding_tokens)", () => {
    const detectorWins = { accuracy: 0.5, blind_accuracy: 0.3, questions: 3464 };
    expect(readsViews({ ...base, grounding: detectorWins, grounding_tokens: { accuracy: 0.04, blind_accuracy: 0.04, questions: 400 } })).toBe(false);
    expect(readsViews({ ...base, grounding: detectorWins, grounding_tokens: { accuracy: 0.6, blind_accuracy: 0.2, questions: 400 } })).toBe(true);
  });
  it("the shipped package records its evaluation, and it does not read its views yet", () => {
    const m = JSON.parse(readFileSync("assets/vision/vision.json", "utf8")) as VisionManifest;
    expect(m.grounding?.questions).toBeGreaterThan(1000);
    expect(readsViews(m)).toBe(false);
  });
});
