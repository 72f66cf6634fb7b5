// Action tags from a reply applied to a real WorldSimulation (Rapier world), through the same code
// the room runs after each reply; and who hears a line (distance and line of sight).
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseCharacterCardJson } from "../core/character/schema.ts";
import { initPhysics } from "../core/movement/world.ts";
import { parseReply } from "../core/prompt/reply.ts";
import { parseScene } from "../core/scene/load.ts";
import { applyActions } from "../server/dialogue/actions.ts";
import { findAddressee, HEARING_DEFAULTS } from "../server/dialogue/hearing.ts";
import { WorldSimulation } from "../server/world/simulation.ts";

const brom = parseCharacterCardJson(readFileSync("adapters/brom/character.json", "utf8"), "brom");

// Brom at the origin facing +z; the player 2 m in front of him; a well 10 m east, a wall north.
const scene = () => parseScene({
  name: "yard",
  ground: { size: [60, 60] },
  objects: [
    { id: "well", name: "well", tags: ["well", "water"], shape: { kind: "cylinder", radius: 1, height: 1 }, position: [10, 0.5, 0] },
    { id: "tavern", name: "tavern", tags: ["tavern", "building"], shape: { kind: "box", size: [4, 3, 4] }, position: [-25, 1.5, -25] },
    { id: "wall", name: "wall", shape: { kind: "box", size: [10, 3, 0.4] }, position: [0, 1.5, 5] },
    { id: "crate", name: "crate", tags: ["crate"], shape: { kind: "box", size: [1, 1, 1] }, position: [0, 0.5, -6], movable: true },
  ],
  spawns: [{ position: [0, 0, 2], facing: Math.PI }],
  npcs: [
    { id: "brom", character: "brom", name: "Brom Ironhand", role: "blacksmith", position: [0, 0, 0], facing: 0 },
    { id: "mira", character: "mira", name: "Mira Vell", role: "merchant", position: [0, 0, 8], facing: Math.PI },
  ],
}, "yard.json");

beforeAll(async () => { await initPhysics(); });

function world() {
  const sim = new WorldSimulation(scene());
  sim.addPlayer("p1", "Ada Lovelace");
  sim.tick();
  return sim;
}

const act = (sim: WorldSimulation, reply: string) => applyActions({ sim, card: brom, npcId: "brom", playerId: "p1" }, parseReply(reply).actions);

describe("NPC actions", () => {
  it("give puts the item in the player's inventory; twice counts two", () => {
    const sim = world();
    expect(act(sim, "[mood:cheerful] Here. A horseshoe. [give:horseshoe]")).toEqual([{ action: "give:horseshoe", ok: true }]);
    act(sim, "[give:horseshoe] [give:nails]");
    const inv = sim.state.players.get("p1")!.inventory;
    expect(inv.get("horseshoe")).toBe(2);
    expect(inv.get("nails")).toBe(1);
    sim.dispose();
  });

  it("skips what the card does not allow, unknown targets and what is out of reach, with the reason", () => {
    const sim = world();
    const out = act(sim, "[give:dragon] [emote:dance] [walk_to:moon] [walk_to:mill] [point_at:nowhere] [give:sword]");
    expect(out.map((o) => o.ok)).toEqual([false, false, false, false, false, true]);
    const reasons = out.filter((o) => !o.ok).map((o) => (o as { reason: string }).reason);
    expect(reasons[0]).toMatch(/"dragon" is not something Brom Ironhand gives \(horseshoe, nails/);
    expect(reasons[1]).toMatch(/emote "dance" is not one of Brom Ironhand's emotes \(nod, wave/);
    expect(reasons[2]).toMatch(/walk_to "moon" is not one of Brom Ironhand's places/);
    expect(reasons[3]).toMatch(/walk_to "mill" is not one of/);
    expect(reasons[4]).toMatch(/no "nowhere" to point at/);
    expect(sim.state.players.get("p1")!.inventory.get("dragon")).toBeUndefined();
    // Out of reach: the player walks off 6 m; giving now fails.
    sim.players.get("p1")!.character.teleport([0, 0.05, -6 + 1.5]);
    sim.tick();
    const far = act(sim, "[give:nails]");
    expect(far[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/too far to hand "nails"/) });
    expect(sim.state.players.get("p1")!.inventory.get("nails")).toBeUndefined();
    sim.dispose();
  });

  it("emote shows in state for a couple of seconds, then clears", () => {
    const sim = world();
    act(sim, "[emote:nod]");
    const npc = sim.state.npcs.get("brom")!;
    expect(npc.emote).toBe("nod");
    for (let i = 0; i < 30; i++) sim.tick();
    expect(npc.emote).toBe("nod");
    for (let i = 0; i < 60; i++) sim.tick();
    expect(npc.emote).toBe("");
    sim.dispose();
  });

  it("point_at faces the target and points; turn_to faces another NPC", () => {
    const sim = world();
    expect(act(sim, "[point_at:well]")[0].ok).toBe(true);
    const npc = sim.state.npcs.get("brom")!;
    expect(npc.emote).toBe("point");
    for (let i = 0; i < 30; i++) sim.tick();
    expect(npc.yaw).toBeCloseTo(Math.PI / 2, 2); // the well is due +x
    act(sim, "[turn_to:mira]");
    for (let i = 0; i < 30; i++) sim.tick();
    expect(Math.abs(npc.yaw)).toBeLessThan(0.01); // Mira is due +z
    sim.dispose();
  });

  it("walk_to: the NPC walks to the place with its controller, then back to its post", () => {
    const sim = world();
    expect(act(sim, "[mood:calm] Follow me. [walk_to:well]")).toEqual([{ action: "walk_to:well", ok: true }]);
    const npc = sim.state.npcs.get("brom")!;
    let nearest = Infinity;
    let sawWalk = false;
    for (let i = 0; i < 30 * 25; i++) {
      sim.tick();
      sawWalk ||= npc.state === "walk";
      nearest = Math.min(nearest, Math.hypot(npc.x - 10, npc.z));
    }
    expect(sawWalk).toBe(true);
    expect(nearest).toBeLessThan(2.1); // reached the well (radius 1 + 1 m)
    expect(nearest).toBeGreaterThan(1.0); // and did not walk into it
    expect(Math.hypot(npc.x, npc.z)).toBeLessThan(0.2); // back at the post
    expect(npc.state).toBe("idle");
    sim.dispose();
  });
});

describe("who hears a line", () => {
  it("the NPC in front within talk range answers; a wall blocks hearing; `to` names one", () => {
    const sim = world(); // the player at z = 2 facing -z (toward Brom); Mira at z = 8 behind the wall at z = 5
    const o = HEARING_DEFAULTS;
    sim.players.get("p1")!.state.yaw = Math.PI;
    const a = findAddressee(sim, "p1", undefined, o);
    expect(a).toMatchObject({ ok: true, npc: "brom" });
    expect(a.hearers).toEqual(["brom"]); // Mira is 6 m away but behind the wall
    const toMira = findAddressee(sim, "p1", "mira", o);
    expect(toMira).toMatchObject({ ok: false, reason: expect.stringMatching(/cannot hear you through the wall/) });
    expect(findAddressee(sim, "p1", "nobody", o)).toMatchObject({ ok: false, reason: 'no NPC "nobody" here' });
    // Facing away from Brom (toward +z): without `to`, nobody is addressed (he is behind), but `to` works.
    sim.players.get("p1")!.state.yaw = 0;
    expect(findAddressee(sim, "p1", undefined, o).ok).toBe(false);
    expect(findAddressee(sim, "p1", "brom", o)).toMatchObject({ ok: true, npc: "brom" });
    // Far away: out of earshot.
    sim.players.get("p1")!.character.teleport([-20, 0.05, -20]);
    sim.tick();
    expect(findAddressee(sim, "p1", "brom", o)).toMatchObject({ ok: false, reason: expect.stringMatching(/out of earshot/) });
    sim.dispose();
  });
});
