import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseScene } from "../core/scene/load.ts";
import type { SceneInput, SceneObject } from "../core/scene/schema.ts";
import { EYE, eyeFrame, segmentHit, solidOf, toCamera, toImage, viewProps, type Pose } from "../core/vision/view.ts";
import { colourWordOf, nameProp } from "../core/vision/vocab.ts";
import { generateView, sceneViews } from "../training/vision/scenes.ts";
import { record } from "../training/vision/render.ts";
import { ASK, DRESS, questionsFor, TYPES } from "../training/vision/questions.ts";
import { loadCards } from "../training/eval/world.ts";

// core/vision/view.ts: where props land in the NPC's 64×64 view, what hides them, and how props
// are named (core/vision/vocab.ts); the scene generator's output passing the schema; and the
// grounding questions built from that truth (training/vision/questions.ts).

function objects(list: SceneInput["objects"]): SceneObject[] {
  return parseScene({ name: "t", ground: { size: [100, 100] }, objects: list, spawns: [{ position: [0, 0, 0] }] }, "test").objects;
}
const barrel = (id: string, x: number, z: number, colour = "red"): SceneInput["objects"][number] =>
  ({ id, name: id, tags: ["barrel", colour, "wood"], shape: { kind: "cylinder", radius: 0.45, height: 1.1 }, position: [x, 0.55, z], movable: true, colour: "#9e3326" });

describe("eye frame", () => {
  it("puts the eye 1.6 m above the feet, facing the yaw, pitched down", () => {
    const f = eyeFrame({ position: [1, 0, 2], facing: Math.PI / 2 });
    expect(f.origin).toEqual([1, 1.6, 2]);
    expect(f.forward[0]).toBeCloseTo(Math.cos(EYE.pitch));
    expect(f.forward[1]).toBeCloseTo(-Math.sin(EYE.pitch));
    // Facing +X, the right hand points to -Z (left-handed frame, yaw 0 faces +Z).
    expect(f.right[2]).toBeCloseTo(-1);
  });

  it("projects a point straight ahead at eye level slightly above the centre", () => {
    const f = eyeFrame({ position: [0, 0, 0], facing: 0 });
    const uv = toImage(f, toCamera(f, [0, 1.6, 5]))!;
    expect(uv[0]).toBeCloseTo(0.5);
    expect(uv[1]).toBeLessThan(0.5); // the eye looks down, so the horizon sits above the middle
    expect(toImage(f, toCamera(f, [0, 1.6, -5]))).toBeNull();
  });
});

describe("viewProps", () => {
  const pose: Pose = { position: [0, 0, 0], facing: 0 };

  it("tells left from right from the NPC's own point of view", () => {
    const v = viewProps(objects([barrel("b-left", -1.5, 5), barrel("b-right", 1.5, 5, "blue")]), pose);
    expect(v.map((p) => [p.id, p.side, p.visible])).toEqual([["b-left", "left", true], ["b-right", "right", true]]);
    expect(v[0].u).toBeLessThan(0.5);
    expect(v[1].u).toBeGreaterThan(0.5);
    // Turned around (facing -Z), the same barrels swap sides and fall out of view.
    const back = viewProps(objects([barrel("b-left", -1.5, -5)]), { position: [0, 0, 0], facing: Math.PI });
    expect(back[0].side).toBe("right");
    expect(back[0].visible).toBe(true);
  });

  it("drops props out of frame, behind, too far or too small", () => {
    const v = viewProps(objects([
      barrel("side", 6, 1), barrel("behind", 0, -4), barrel("far", 0, 20),
      { id: "tiny", name: "tiny", tags: ["bucket", "white"], shape: { kind: "cylinder", radius: 0.05, height: 0.08 }, position: [0, 0.04, 12] },
    ]), pose);
    expect(Object.fromEntries(v.map((p) => [p.id, p.why]))).toEqual({ side: "frame", behind: "depth", far: "depth", tiny: "small" });
  });

  it("hides a prop behind a wall and a crate behind a barrel, not one beside it", () => {
    const wall: SceneInput["objects"][number] = { id: "wall", name: "wall", tags: ["wall"], shape: { kind: "box", size: [3, 2.5, 0.3] }, position: [0, 1.25, 4] };
    const v = viewProps(objects([wall, barrel("hidden", 0, 7), barrel("beside", 4, 8)]), pose);
    const by = Object.fromEntries(v.map((p) => [p.id, p]));
    expect(by.hidden.why).toBe("occluded");
    expect(by.hidden.occlusion).toBe(1);
    expect(by.beside.visible).toBe(true);
    expect(by.beside.occlusion).toBe(0);
  });

  it("measures apparent size: a 1.1 m barrel 5 m ahead is about 1.1 / (5 tan 0.55) × 32 px tall", () => {
    const [b] = viewProps(objects([barrel("b", 0, 5)]), pose);
    const expected = (1.1 / (5 * Math.tan(EYE.fov / 2))) * 32;
    expect(b.px).toBeGreaterThan(expected * 0.9);
    expect(b.px).toBeLessThan(expected * 1.4);
    expect(b.distance).toBe(5);
  });

  it("segmentHit finds boxes, spheres and cylinders along a segment", () => {
    const [box, ball, can] = objects([
      { id: "box", name: "b", shape: { kind: "box", size: [2, 2, 2] }, position: [0, 0, 5], rotation: [0, 0.7, 0] },
      { id: "ball", name: "s", shape: { kind: "sphere", radius: 1 }, position: [0, 0, 5] },
      { id: "can", name: "c", shape: { kind: "cylinder", radius: 1, height: 2 }, position: [0, 0, 5] },
    ]).map(solidOf);
    for (const s of [box, ball, can]) {
      expect(segmentHit(s, [0, 0, 0], [0, 0, 10], 0, 1)).toBeGreaterThan(0.3);
      expect(segmentHit(s, [0, 0, 0], [0, 0, 10], 0, 1)).toBeLessThan(0.45);
      expect(segmentHit(s, [0, 0, 0], [0, 0, 3], 0, 1)).toBe(Infinity); // stops short
      expect(segmentHit(s, [3, 0, 0], [0, 0, 10], 0, 1)).toBe(Infinity); // passes beside
    }
  });
});

describe("vocabulary", () => {
  it("names props from tags and shape, colour from RGB when no tag names one", () => {
    const [b, c, s, notProp, wrongShape] = objects([
      barrel("b", 0, 0),
      { id: "c", name: "c", tags: ["crate", "wood"], shape: { kind: "box", size: [1, 1, 1] }, position: [0, 0.5, 0], colour: "#355f8c" },
      { id: "s", name: "s", tags: ["sack", "cloth", "gray"], shape: { kind: "sphere", radius: 0.4 }, position: [0, 0.3, 0] },
      { id: "w", name: "w", tags: ["well", "grey"], shape: { kind: "cylinder", radius: 1, height: 1 }, position: [0, 0.5, 0] },
      { id: "x", name: "x", tags: ["barrel", "red"], shape: { kind: "box", size: [1, 1, 1] }, position: [0, 0.5, 0] },
    ]);
    expect(nameProp(b)).toEqual({ kind: "barrel", colour: "red" });
    expect(nameProp(c)).toEqual({ kind: "crate", colour: "blue" });
    expect(nameProp(s)).toEqual({ kind: "sack", colour: "grey" });
    expect(nameProp(notProp)).toBeNull();
    expect(nameProp(wrongShape)).toBeNull();
    expect(colourWordOf("#c8a23c")).toBe("yellow");
    expect(colourWordOf([0.9, 0.88, 0.82])).toBe("white");
  });

  it("finds the village's movable props", () => {
    const village = parseScene(JSON.parse(readFileSync("scenes/village.json", "utf8")), "scenes/village.json");
    const named = village.objects.filter((o) => o.movable).map((o) => nameProp(o));
    expect(named.every((n) => n !== null)).toBe(true);
    expect(named).toContainEqual({ kind: "barrel", colour: "red" });
    expect(named).toContainEqual({ kind: "bucket", colour: "brown" });
  });
});

describe("scene generator", () => {
  it("is seeded, valid, and mostly puts props in view", () => {
    expect(generateView(42)).toEqual(generateView(42));
    let props = 0, visible = 0;
    for (let s = 0; s < 60; s++) {
      const v = generateView(s);
      expect(v.scene.objects.length).toBeGreaterThan(0);
      const seen = viewProps(v.scene.objects, v.npc);
      props += seen.length;
      visible += seen.filter((p) => p.visible).length;
    }
    expect(props).toBeGreaterThan(100);
    expect(visible / props).toBeGreaterThan(0.5);
    expect(visible / props).toBeLessThan(0.95);
  });

  it("views a real scene from its NPCs' poses", () => {
    const village = parseScene(JSON.parse(readFileSync("scenes/village.json", "utf8")), "scenes/village.json");
    const views = sceneViews(village, { extra: 10, seed: 3 });
    expect(views).toHaveLength(village.npcs.length + 10);
    expect(views[0].npc).toMatchObject({ id: village.npcs[0].id, position: village.npcs[0].position });
    expect(views[0].figures.map((f) => f.id)).not.toContain(village.npcs[0].id);
    expect(() => sceneViews(village, { npc: "nobody", extra: 0, seed: 1 })).toThrow(/no NPC "nobody"/);
  });
});

describe("grounding questions", () => {
  const views = Array.from({ length: 50 }, (_, i) => record(i, "generated", generateView(500 + i)));
  const cards = loadCards(".");
  const qa = questionsFor(views, cards, { split: "train", perView: 6, seed: 1 });

  it("asks about 6 per view over every type, POPE balanced yes/no", () => {
    expect(qa.length).toBeGreaterThan(50 * 5);
    const types = new Set(qa.map((q) => q.type));
    expect([...types].sort()).toEqual([...TYPES].sort());
    const pope = qa.filter((q) => q.type === "pope");
    const yes = pope.filter((q) => q.key === "yes").length;
    expect(Math.abs(2 * yes - pope.length)).toBeLessThanOrEqual(2);
    expect(new Set(pope.filter((q) => q.key === "no").map((q) => q.probe))).toEqual(new Set(["random", "popular", "adversarial"]));
  });

  it("answers in the character's reply format with the key said plainly, from the view's truth", () => {
    for (const q of qa) {
      expect(q.answer).toMatch(/^\[mood:[a-z]+\] /);
      expect(q.completion).toBe(`${q.answer}<|end|>`);
      expect(q.prompt).toContain("<|image|>".repeat(16));
      expect(q.prompt.endsWith(`<|npc|>`)).toBe(true);
      expect(cards.has(q.npc)).toBe(true);
      const a = q.answer.toLowerCase();
      const keys = Array.isArray(q.key) ? q.key : [q.key];
      for (const k of keys) expect(a).toContain(k === "front" ? "front" : k);
      const visible = views[q.view].props.filter((p) => p.visible).map((p) => `${p.colour} ${p.kind}`);
      if (q.type === "what_see") expect([...(q.key as string[])].sort()).toEqual([...visible].sort());
      if (q.type === "pope" && q.key === "no") expect(visible).not.toContain(q.question.toLowerCase().match(/(red|blue|green|yellow|brown|grey|white|purple) (barrel|crate|sack|bucket)/)?.[0]);
    }
  });

  it("keeps the held-out phrasings apart from the training ones, dressed or not", () => {
    for (const [train, held] of Object.values(ASK)) {
      const dressed = train.flatMap((t) => [t, ...DRESS.openers.map((o) => o + t.charAt(0).toLowerCase() + t.slice(1))]);
      for (const t of held) {
        expect(dressed).not.toContain(t);
        for (const c of DRESS.closers) expect(t.endsWith(c)).toBe(false);
      }
    }
  });

  it("dresses some training questions with openers and closers, never held-out ones", () => {
    const openers = (qs: { question: string }[]) => qs.filter((q) => DRESS.openers.some((o) => q.question.startsWith(o))).length;
    // (what_see questions are partly composed in training, with no opener: counted apart)
    const templated = qa.filter((q) => q.type !== "what_see");
    expect(openers(templated) / templated.length).toBeGreaterThan(0.1);
    expect(openers(templated) / templated.length).toBeLessThan(0.45);
    const held = questionsFor(views, cards, { split: "heldout", perView: 6, seed: 1 });
    expect(openers(held)).toBe(0);
  });
});
