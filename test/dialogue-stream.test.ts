// Streaming spoken text: pieces pushed out while a reply arrives concatenate to parseReply's text
// of the whole reply, for any split of the raw text into chunks; tags never leak, even split.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseReply } from "../core/prompt/reply.ts";
import { SpokenStream } from "../server/dialogue/spoken-stream.ts";

function run(chunks: string[]): { pieces: string[]; out: string } {
  const s = new SpokenStream();
  const pieces = chunks.map((c) => s.push(c));
  pieces.push(s.end());
  return { pieces, out: pieces.join("") };
}

/** Splits `text` at the given cut points (sorted, deduplicated, inside the string). */
function split(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of at) { out.push(text.slice(prev, c)); prev = c; }
  out.push(text.slice(prev));
  return out;
}

describe("SpokenStream", () => {
  it("strips the mood tag and action tags, holding a split tag until it closes", () => {
    const { pieces, out } = run(["[mo", "od:calm] Aye", ". Here", " you go [gi", "ve:horse", "shoe] lad", "."]);
    expect(out).toBe("Aye. Here you go lad.");
    expect(out).toBe(parseReply("[mood:calm] Aye. Here you go [give:horseshoe] lad.").text);
    expect(pieces.join("|")).not.toMatch(/[[\]]/);
    expect(pieces[0]).toBe(""); // nothing spoken while the mood tag is open
  });

  it("releases a bracket that cannot become a tag", () => {
    expect(run(["Hello [", "world is big]"]).out).toBe("Hello [world is big]");
    expect(run(["a [b", " c"]).out).toBe("a [b c");
    expect(run(["x [unfinished:tag"]).out).toBe(parseReply("x [unfinished:tag").text);
  });

  it("drops malformed tags exactly as parseReply does", () => {
    const raw = "[mood:giddy] Fly [fly:moon] away [emote:nod]!";
    expect(run(split(raw, [3, 9, 14, 20, 30])).out).toBe(parseReply(raw).text);
  });

  it("any split of any reply: concatenation equals parseReply(raw).text, and no piece holds a whole tag", () => {
    const word = fc.constantFrom("Aye", "the", "forge", ",", ".", "!", " ", "  ", "[", "]", ":", "x", "[mood:calm]", "[mood:angry]",
      "[give:nails]", "[emote:nod]", "[walk_to:well]", "[fly:moon]", "[mood: calm ]", "[bad tag]", "lad", "[emote:", "nod]", "é");
    fc.assert(fc.property(fc.array(word, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 12 }), (words, cuts) => {
      const raw = words.join("");
      const { pieces, out } = run(split(raw, cuts));
      expect(out).toBe(parseReply(raw).text);
      for (const p of pieces) expect(p).not.toMatch(/\[(mood|give|emote|walk_to):[a-z]+\]/);
    }), { numRuns: 2000 });
  });
});
