// The act, near and mood checks (core/prompt/act-check.ts, near-check.ts, requests.ts, mood-check.ts) and the choice of
// check (core/prompt/checks.ts): which lines ask for an action or about the surroundings, what a
// reply must carry or say, and what is said when none does. The cards and the scene are the
// village's own; the prompts are assembled as the server assembles them; the player lines are this
// file's, in neither the evaluation suites nor the data engine's lists.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseCharacterCardJson, type CharacterCard } from "../core/character/schema.ts";
import { actCheckFor } from "../core/prompt/act-check.ts";
import { checkFor, withReferent } from "../core/prompt/checks.ts";
import type { Turn } from "../core/prompt/layout.ts";
import { gateMood, moodCheckFor } from "../core/prompt/mood-check.ts";
import { assemblePrompt, factAliases, playerInFront, sceneNpcEntities } from "../core/prompt/context.ts";
import { asksWhatIsAround, colourThingAsked, nearbyLinesOf, nearCheckFor } from "../core/prompt/near-check.ts";
import { clearlyMentioned, mentionedObjects } from "../core/prompt/nearby.ts";
import { asksToFaceThem, asksToPoint, requestedEmote } from "../core/prompt/requests.ts";
import { parseScene } from "../core/scene/load.ts";
import { answersFromSight, asksAboutProps } from "../core/vision/sight.ts";

const card = (id: string) => parseCharacterCardJson(readFileSync(`adapters/${id}/character.json`, "utf8"), id);
const brom = card("brom"), hilde = card("hilde"), wen = card("wen");
const scene = parseScene(JSON.parse(readFileSync("scenes/village.json", "utf8")), "scenes/village.json");

/** The prompt of `npc` at its spawn point for `say` (after `history`), text path (no sight lines). */
function promptFor(c: CharacterCard, say: string, history: Turn[] = []): string {
  const npc = scene.npcs.find((n) => n.character === c.id)!;
  const pose = { position: npc.position, facing: npc.facing };
  return assemblePrompt({ card: c, scene, npcId: npc.id, pose, playerPosition: playerInFront(pose), others: sceneNpcEntities(scene, npc.id), say, history }, (s) => Math.ceil(s.length / 3)).text;
}
const act = (c: CharacterCard, say: string) => actCheckFor(c, say, promptFor(c, say), scene, 0);
const near = (c: CharacterCard, say: string) => nearCheckFor(c, say, promptFor(c, say), scene, 0);

describe("reading requests to act", () => {
  it("hears an emote the card allows asked for in many ways, and not talk about one", () => {
    for (const l of ["wave!", "Oi, give us a wave", "go on then, shrug", "why don't you nod", "how about a nod?", "bet you can't fold your arms", "hit the anvil for me"]) expect(requestedEmote(brom, l), l).not.toBeNull();
    expect(requestedEmote(brom, "hit the anvil for me")).toBe("hammer");
    expect(requestedEmote(brom, "bet you can't fold your arms")).toBe("cross_arms");
    for (const l of ["I waved at you yesterday", "do you wave at strangers?", "please don't wave", "do you sell a bow?", "nice shrug"]) expect(requestedEmote(brom, l), l).toBeNull();
    // Curtsying is Hilde's, not Brom's.
    expect(requestedEmote(hilde, "curtsey for me, love")).toBe("curtsy");
    expect(requestedEmote(brom, "curtsey for me")).toBeNull();
  });

  it("hears a request to face the player and to point, not a look at something else", () => {
    for (const l of ["look at me when I talk", "hey, over here!", "turn around, smith", "eyes on me"]) expect(asksToFaceThem(l), l).toBe(true);
    for (const l of ["look at the well", "don't look at me", "I looked around"]) expect(asksToFaceThem(l), l).toBe(false);
    for (const l of ["which one is the grindstone?", "point at the signpost", "show me the beehive"]) expect(asksToPoint(l), l).toBe(true);
    // "Point me to" asks the way (the near check), like "show me the way to".
    for (const l of ["show me how you wave", "show me the way to the well", "show me your wares", "what's the point?", "point me to the signpost"]) expect(asksToPoint(l), l).toBe(false);
  });

  it("sends a request to point at a prop to the text path, where the act check takes it", () => {
    expect(asksAboutProps("which one is the brown barrel?")).toBe(true);
    expect(answersFromSight("which one is the brown barrel?")).toBe(false);
    expect(answersFromSight("is the brown barrel on your left?")).toBe(true);
    // "Which is the nearest …" asks what is seen, not to point.
    for (const l of ["which is the nearest thing in view?", "which one is closest to you?", "which one is the barrel on your left?"]) expect(answersFromSight(l), l).toBe(true);
  });
});

describe("the act check", () => {
  it("wants the emote's tag, and says a line of the card's with it when no reply carries it", () => {
    const c = act(brom, "go on, wave at me")!;
    expect(c.kind).toBe("act");
    expect(c.agrees("[mood:calm] Aye.")).toEqual(["no [emote:wave]"]);
    expect(c.agrees("[mood:calm] Aye. [emote:wave]")).toEqual([]);
    const plain = c.voice!("[mood:angry] Hmph.");
    expect(plain.startsWith("[mood:angry] ")).toBe(true);
    expect(plain.endsWith("[emote:wave]")).toBe(true);
    expect(brom.lines.emote.some((l) => plain.includes(l))).toBe(true);
  });

  it("leaves a negated request alone", () => {
    expect(act(brom, "don't take me to the well")).toBeNull();
    expect(act(brom, "never point at the anvil stump")).toBeNull();
    expect(act(brom, "take me to the well")?.kind).toBe("act");
  });

  it("leaves an action the card does not allow to the model", () => {
    expect(act(brom, "curtsy for me")).toBeNull();
    // Brom does not walk to the herb hut: no act check (the way there may still be checked).
    expect(act(brom, "take me to the herb hut")).toBeNull();
  });

  it("wants a walk to the place named, among the card's places", () => {
    const c = act(wen, "would you lead me to the drying rack?")!;
    expect(c.agrees("[mood:calm] Come. [walk_to:herb-drying-rack]")).toEqual([]);
    expect(c.agrees("[mood:calm] Come. [walk_to:well]")).toEqual(["no [walk_to:herb-drying-rack]"]);
  });

  it("wants a point at the thing named, by the prompt's id, the longest name first", () => {
    expect(mentionedObjects(scene, "which one is the anvil stump?")[0].id).toBe("forge-anvil-base");
    const c = act(brom, "which one is the anvil stump?")!;
    expect(c.agrees("[mood:calm] That one. [point_at:forge-anvil-base]")).toEqual([]);
    expect(c.agrees("[mood:calm] That one. [point_at:forge-anvil]")).toHaveLength(1);
    expect(c.agrees("[mood:calm] This way. [walk_to:forge-anvil-base]")).toHaveLength(1);
    expect(c.voice!("[mood:calm] x")).toMatch(/anvil stump.*\[point_at:forge-anvil-base\]$/i);
  });

  it("wants both tags when a line asks for two things", () => {
    const c = act(brom, "look at me and nod")!;
    expect(c.agrees("[mood:calm] Aye. [emote:nod] [turn_to:player]")).toEqual([]);
    expect(c.agrees("[mood:calm] Aye. [emote:nod]")).toEqual(["no [turn_to:player]"]);
    const both = act(hilde, "take me to the well, and give me a hug!")!;
    expect(both.agrees("[mood:cheerful] Come along! [walk_to:well]")).toEqual(["no [emote:hug]"]);
  });
});

describe("what a line names", () => {
  it("a colour alone names no object; beside another word it does", () => {
    expect(mentionedObjects(scene, "what's that grey thing close to you?")).toEqual([]);
    expect(mentionedObjects(scene, "the grey forge")[0].id).toBe("forge");
  });

  it("one place, or none when far-apart objects answer to the line as well", () => {
    expect(clearlyMentioned(scene, "where's the stall?")).toBeUndefined(); // four stalls
    expect(clearlyMentioned(scene, "where is the spice stall?")?.id).toBe("stall-spice-awning"); // its parts stand together
    expect(clearlyMentioned(scene, "where's the gate?")?.id).toBe("gate-lintel");
    expect(clearlyMentioned(scene, "hello there")).toBeUndefined();
  });
});

describe("the near check", () => {
  it("reads the prompt's nearby lines back", () => {
    const lines = nearbyLinesOf(promptFor(brom, "hello"));
    const anvil = lines.find((l) => l.id === "forge-anvil")!;
    expect(anvil).toMatchObject({ name: "anvil", colour: "dark brown", distance: 1, direction: "left", compass: "south-east" });
    expect(lines.some((l) => l.id === "player")).toBe(true);
    expect(nearbyLinesOf("<|persona|>Brom\n<|player|>hi<|end|>\n<|npc|>")).toEqual([]);
  });

  it("knows questions about the surroundings and a coloured thing", () => {
    for (const l of ["so what's around here?", "what stuff is near you", "look around for me", "describe your surroundings, smith"]) expect(asksWhatIsAround(l), l).toBe(true);
    for (const l of ["what do you see in the fire?", "is the well near?", "what's near the gate?"]) expect(asksWhatIsAround(l), l).toBe(false);
    expect(colourThingAsked("the purple thing over there, what is it?")).toBe("purple");
    expect(colourThingAsked("what's that gray one")).toBe("grey");
    expect(colourThingAsked("what's in the red barrel?")).toBeNull();
  });

  it("wants the two nearest things named for 'what's around?'", () => {
    const say = "so what's around here, then?";
    const lines = nearbyLinesOf(promptFor(brom, say)).filter((l) => l.id !== "player");
    const c = near(brom, say)!;
    expect(c.kind).toBe("near");
    expect(c.agrees(`[mood:calm] The ${lines[0].name} and the ${lines[1].name}.`)).toEqual([]);
    expect(c.agrees(`[mood:calm] The ${lines[0].name}. That's all.`)).toHaveLength(1);
    for (const l of lines.slice(0, 4)) expect(c.voice!("[mood:calm] x")).toContain(l.name);
  });

  it("wants a nearby thing of the colour asked, the near ones first", () => {
    const say = "what's that dark brown thing?";
    const c = near(brom, say)!;
    expect(c.agrees("[mood:calm] That's the anvil.")).toEqual([]);
    expect(c.agrees("[mood:calm] That's the well.")).toHaveLength(1);
    expect(near(brom, "what's that pink thing?")).toBeNull(); // nothing pink near Brom: nothing to hold the reply to
    // "That red thing" is one in view: of the listed red things, those within 12 m.
    const prompt = "<|persona|>Brom\n<|near|>- barrel-red: red barrel, 30 m ahead (north)\n- bucket-a: bucket, red, 3 m left (west)\n<|player|>what's that red thing?<|end|>\n<|npc|>";
    const red = nearCheckFor(brom, "what's that red thing?", prompt, scene, 0)!;
    expect(red.agrees("[mood:calm] The bucket.")).toEqual([]);
    expect(red.agrees("[mood:calm] The red barrel.")).toHaveLength(1);
  });

  it("news around here is no question about the surroundings", () => {
    expect(asksWhatIsAround("what's going on around here?")).toBe(false);
    expect(asksWhatIsAround("anything strange around here lately?")).toBe(false);
    expect(asksWhatIsAround("anything interesting around here?")).toBe(true);
  });

  it("wants the compass direction of a place asked the way to, or 'here' within reach", () => {
    const c = near(brom, "excuse me, where's the well from here?")!;
    expect(c.agrees("[mood:calm] West. Fourteen metres.")).toEqual([]);
    expect(c.agrees("[mood:calm] That way. East.")).toHaveLength(1);
    expect(c.agrees("[mood:calm] There. [point_at:well]")).toEqual([]);
    expect(c.voice!("[mood:calm] x")).toMatch(/west/i);
    const here = near(brom, "where's the anvil stump?")!;
    expect(here.agrees("[mood:calm] You're standing at it.")).toEqual([]);
    expect(here.agrees("[mood:calm] South-east, 24 metres.")).toHaveLength(1);
  });
});

describe("which check a reply gets", () => {
  const o = (c: CharacterCard, say: string, extra: Partial<Parameters<typeof checkFor>[2]> = {}) =>
    checkFor(c, say, { prompt: promptFor(c, say), scene, bySight: false, sight: true, text: true, aliases: factAliases(scene), pick: 0, ...extra });

  it("takes a card fact first, then a request to act, then the surroundings", () => {
    expect(o(brom, "what do you call your hammer?")?.kind).toBe("lore");
    expect(o(brom, "how much for a dagger?")?.kind).toBe("lore");
    expect(o(brom, "nod if you heard me")?.kind).toBe("act");
    expect(o(brom, "where's the well?")?.kind).toBe("near");
    expect(o(brom, "nice weather")).toBeNull();
  });

  it("a trade line that points back ('I'll take it') is about the good the latest turn named", () => {
    const history: Turn[] = [{ role: "player", text: "do you make daggers?" }, { role: "npc", text: "[mood:calm] Aye. Dagger, 25 coins. [emote:nod]" }];
    const take = promptFor(brom, "good, I'll take it", history);
    expect(withReferent(brom, "good, I'll take it", take)).toBe("good, I'll take it (the dagger)");
    const c = checkFor(brom, "good, I'll take it", { prompt: take, scene, bySight: false, sight: true, text: true, aliases: factAliases(scene), pick: 0 })!;
    expect(c.agrees("[mood:calm] Here. [give:dagger]")).toEqual([]);
    expect(c.agrees("[mood:calm] Here. [give:sword]")).toHaveLength(1);
    const offer = promptFor(brom, "would you take 20 for that one?", history);
    expect(checkFor(brom, "would you take 20 for that one?", { prompt: offer, scene, bySight: false, sight: true, text: true, aliases: factAliases(scene), pick: 0 })?.agrees("[mood:calm] 20. Deal.")).toEqual([]);
    // No earlier good, a good named, or no trade: the line as it is.
    expect(withReferent(brom, "I'll take it", promptFor(brom, "I'll take it"))).toBe("I'll take it");
    expect(withReferent(brom, "how much is the sword, then?", take)).toBe("how much is the sword, then?");
    expect(withReferent(brom, "is it hot in there?", take)).toBe("is it hot in there?");
  });

  it("an opening 'well,' names no well", () => {
    const say = "well, where's the anvil stump?";
    const c = checkFor(brom, say, { prompt: promptFor(brom, say), scene, bySight: false, sight: true, text: true, aliases: factAliases(scene), pick: 0 })!;
    expect(c.kind).toBe("near");
    expect(c.agrees("[mood:calm] You're standing at it.")).toEqual([]);
  });

  it("checks nothing on the text path in danger, or with the text checks off", () => {
    expect(o(brom, "wave at me", { state: "danger: wolves at the gate" })).toBeNull();
    expect(o(brom, "wave at me", { text: false })).toBeNull();
  });
});

describe("the mood check", () => {
  it("holds the reply's mood tag to the gate's mood when the gate moves off the card's default", () => {
    expect(gateMood({ brom: 1, "mood-calm": 0.3, "mood-sad": 0.5 })).toBe("sad");
    expect(gateMood({ brom: 1 })).toBeNull();
    const c = moodCheckFor(brom, { brom: 1, "mood-calm": 0.3, "mood-sad": 0.5 }, 0)!;
    expect(c.kind).toBe("mood");
    expect(c.agrees("[mood:sad] Hmph. Sorry.")).toEqual([]);
    expect(c.agrees("[mood:calm] Aye.")).toEqual(["mood calm, the gate's sad"]);
    expect(c.voice!("[mood:calm] Aye.")).toBe(`[mood:sad] ${brom.lines.sad[0]}`);
    // The default mood, and calm, are never required.
    expect(moodCheckFor(brom, { brom: 1, "mood-calm": 0.8 }, 0)).toBeNull();
    expect(moodCheckFor(hilde, { hilde: 1, "mood-cheerful": 0.8 }, 0)).toBeNull();
    expect(moodCheckFor(hilde, { hilde: 1, "mood-calm": 0.8 }, 0)).toBeNull();
  });

  it("comes after the other checks, and alone in danger", () => {
    const sad = { brom: 1, "mood-sad": 0.8 };
    const base = (say: string, state = "") => ({ prompt: promptFor(brom, say), scene, bySight: false, sight: true, text: true, aliases: factAliases(scene), pick: 0, state, weights: sad });
    expect(checkFor(brom, "my horse died this morning", base("my horse died this morning"))?.kind).toBe("mood");
    expect(checkFor(brom, "what do you call your hammer?", base("what do you call your hammer?"))?.kind).toBe("lore");
    const afraid = { ...base("what do we do?!", "danger: wolves at the gate"), weights: { brom: 1, "mood-afraid": 0.8 } };
    expect(checkFor(brom, "what do we do?!", afraid)?.kind).toBe("mood");
    expect(checkFor(brom, "what do we do?!", { ...afraid, text: false })).toBeNull();
  });
});
