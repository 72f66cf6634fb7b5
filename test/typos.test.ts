// Typos mended before the line readers read a player's line (core/prompt/typos.ts), and what that
// does to the checks (core/prompt/checks.ts). The phrasings are this file's own.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseCharacterCardJson } from "../core/character/schema.ts";
import { mendTypos } from "../core/prompt/typos.ts";
import { checkFor } from "../core/prompt/checks.ts";
import { factAliases } from "../core/prompt/context.ts";
import { loadScene } from "../training/eval/world.ts";

const card = (id: string) => parseCharacterCardJson(readFileSync(`adapters/${id}/character.json`, "utf8"), id);
const brom = card("brom"), wen = card("wen"), mira = card("mira");

describe("mendTypos", () => {
  it("mends a reader's word one edit away, doubled letters and chat shorthand", () => {
    expect(mendTypos(brom, "Waht do u charge for a horsehoe?")).toBe("what do you charge for a horseshoe?");
    expect(mendTypos(brom, "whre r the wares kept")).toBe("where are the wares kept");
    expect(mendTypos(wen, "any newz abt the road? pls")).toBe("any news about the road? please");
    expect(mendTypos(wen, "teell me somethign ibteresting")).toBe("tell me something interesting");
    expect(mendTypos(wen, "tlel me, how mch is it")).toBe("tell me, how much is it");
    expect(mendTypos(wen, "Youuur price?")).toBe("your price?");
    // colours, as the sight reader forgives them: "what's the yelkow one?"
    expect(mendTypos(wen, "what's the yelkow one? the purpel thing?")).toBe("what's the yellow one? the purple thing?");
    // "gren" is one letter from green and from grey: left as typed
    expect(mendTypos(wen, "the gren one")).toBe("the gren one");
  });

  it("leaves words of their own, the card's own words and names, and short goods", () => {
    for (const l of ["while you write", "a pink pint of ale", "the crown jewels", "that is well said", "is Old Wen a witch?", "I like your hat", "what's for sale", "head to the inn", "the bell rang", "back at the gate"]) expect(mendTypos(wen, l), l).toBe(l);
    // "swrod" stays: a card's words of under six letters have too many common words beside them.
    expect(mendTypos(brom, "a swrod please")).toBe("a swrod please");
    // A word before an apostrophe is mended with its ending kept; a number is never touched.
    expect(mendTypos(brom, "what's 5 coins, wat's that, I'll see")).toBe("what's 5 coins, what's that, I'll see");
  });

  it("gives a typed line the check its mended line gets", () => {
    const scene = loadScene("scenes/village.json", process.cwd());
    const opts = { prompt: "<|persona|>x<|player|>y<|npc|>", scene, bySight: false, sight: true, text: true, aliases: factAliases(scene) };
    expect(checkFor(mira, "ok waht day is the market?", opts)?.kind).toBe("lore");
    expect(checkFor(mira, "ok what day is the market?", opts)?.kind).toBe("lore");
    const price = checkFor(brom, "how mch for the sword", opts)!;
    expect(price.kind).toBe("lore");
    expect(price.agrees("[mood:calm] Sixty. 60 coins.")).toEqual([]);
    expect(price.agrees("[mood:calm] Fine blade.")).not.toEqual([]);
  });
});
