import type { Rng } from "../data/rng.ts";
import { spokenList, withArticle } from "../../core/vision/vocab.ts";

// How each village character says what it sees (adapters/<id>/character.json speaking styles):
// Brom clipped, Aldric formal ("citizen"), Hilde warm and rambling ("dearie"), Mira bubbly
// ("Oh!"), Old Wen slow and leafy ("little sprout"). Every reply names the canonical answer
// plainly: yes/no, the number word, the colour, the kind, left/right, in front/behind, the labels.

export type Core =
  | { t: "yes"; what: string; side?: "left" | "right" }
  | { t: "no"; what: string }
  | { t: "count"; n: string; what: string }
  | { t: "colour"; colour: string; kind: string }
  | { t: "kind"; colour: string; kind: string }
  | { t: "none"; what: string }
  | { t: "side"; what: string; side: "left" | "right" }
  | { t: "depth"; a: string; b: string; rel: "front" | "behind" }
  | { t: "nearest"; what: string; side?: "left" | "right" }
  | { t: "list"; items: string[]; near?: string };

export type Voice = (c: Core) => string;

const an = withArticle;
const listing = spokenList;
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

type Lines = { [K in Core["t"]]: ((c: Extract<Core, { t: K }>) => string)[] };

const sideWords = (s?: "left" | "right") => (s ? ` Off to my ${s}.` : "");

const BROM: Lines = {
  yes: [(c) => `Aye. Yes. ${cap(an(c.what))}.${sideWords(c.side)}`, (c) => `Yes. ${cap(an(c.what))}, there.${sideWords(c.side)}`, (c) => `Hmph. Yes. ${cap(an(c.what))}.`],
  no: [(c) => `No. No ${c.what} here.`, (c) => `No. Don't see ${an(c.what)}.`, (c) => `Bah. No ${c.what}.`],
  count: [(c) => `${cap(c.n)}. ${cap(c.n)} ${c.what}.`, (c) => `${cap(c.n)} ${c.what}. Aye.`, (c) => `Hmph. ${cap(c.n)}.`],
  colour: [(c) => `${cap(c.colour)}. ${cap(c.colour)} ${c.kind}.`, (c) => `${cap(c.colour)}, lad.`, (c) => `Aye. It's ${c.colour}.`],
  kind: [(c) => `${cap(an(c.kind))}. ${cap(c.colour)} ${c.kind}.`, (c) => `That's ${an(c.kind)}.`, (c) => `${cap(c.kind)}. Plain ${c.kind}.`],
  none: [(c) => `Don't see ${an(c.what)}. None.`, (c) => `None here. No ${c.what}.`, () => `Bah. See none.`],
  side: [(c) => `${cap(c.side)}. My ${c.side}.`, (c) => `The ${c.what}? My ${c.side}.`, (c) => `Off to my ${c.side}. Aye.`],
  depth: [(c) => c.rel === "front" ? `In front. The ${c.a}'s nearer.` : `Behind. The ${c.a}'s further back.`, (c) => c.rel === "front" ? `Front. In front of the ${c.b}.` : `Behind. Behind the ${c.b}.`],
  nearest: [(c) => `${cap(an(c.what))}. Closest.${sideWords(c.side)}`, (c) => `The ${c.what}. Nearest.`],
  list: [(c) => c.items.length ? `${cap(listing(c.items))}. That's all.` : `Nothing. No barrels, crates, sacks, buckets.`, (c) => c.items.length ? `Hmph. ${cap(listing(c.items))}.` : `Nothing worth a look. None.`],
};

const ALDRIC: Lines = {
  yes: [(c) => `Yes, citizen. There is ${an(c.what)}.${c.side ? ` It stands to my ${c.side}.` : ""}`, (c) => `Yes. I see ${an(c.what)} before me, citizen.${c.side ? ` It is on my ${c.side}.` : ""}`],
  no: [(c) => `No, citizen. There is no ${c.what} in my sight.`, (c) => `No. I see no ${c.what} from my post.`],
  count: [(c) => `I count ${c.n} ${c.what}, citizen.`, (c) => `${cap(c.n)} ${c.what}, by my count. Stay vigilant.`],
  colour: [(c) => `The ${c.kind} is ${c.colour}, citizen.`, (c) => `It is ${c.colour}. ${cap(an(c.colour))} ${c.kind}.`],
  kind: [(c) => `That is ${an(c.kind)}, citizen. ${cap(an(c.colour))} ${c.kind}.`, (c) => `The ${c.colour} one is ${an(c.kind)}.`],
  none: [(c) => `I see no ${c.what} from here, citizen. None at all.`, (c) => `There is none, citizen. I do not see ${an(c.what)}.`],
  side: [(c) => `The ${c.what} is on my ${c.side}, citizen.`, (c) => `To my ${c.side}, citizen.`],
  depth: [(c) => c.rel === "front" ? `The ${c.a} is in front of the ${c.b}, citizen.` : `The ${c.a} is behind the ${c.b}, citizen.`, (c) => c.rel === "front" ? `In front. The ${c.a} stands nearer than the ${c.b}.` : `Behind. The ${c.a} stands further than the ${c.b}.`],
  nearest: [(c) => `The nearest is ${an(c.what)}, citizen.${c.side ? ` It is to my ${c.side}.` : ""}`, (c) => `${cap(an(c.what))} is closest to my post.`],
  list: [(c) => c.items.length ? `I see ${listing(c.items)}, citizen. Nothing more.` : `I see nothing of note, citizen. No barrels, crates, sacks or buckets.`, (c) => c.items.length ? `Before me: ${listing(c.items)}. Stay vigilant.` : `Nothing, citizen. The way is clear.`],
};

const HILDE: Lines = {
  yes: [(c) => `Oh, yes, dearie, there's ${an(c.what)} right there${c.side ? `, just off to my ${c.side}` : ""}, bless you for asking.`, (c) => `Yes, love! ${cap(an(c.what))}, plain as day${c.side ? `, over on my ${c.side}` : ""}.`],
  no: [(c) => `No, dearie, no ${c.what} that I can see, and I've good eyes still.`, (c) => `Oh, no, love. Not ${an(c.what)} in sight, mark my words.`],
  count: [(c) => `Let me see, love... ${c.n} ${c.what}, I make it.`, (c) => `Oh, ${c.n} ${c.what}, dearie, if I've counted right.`],
  colour: [(c) => `Oh, it's ${c.colour}, dearie. ${cap(an(c.colour))} ${c.kind}, like the one in my cellar.`, (c) => `${cap(c.colour)}, love, a nice ${c.colour} ${c.kind}.`],
  kind: [(c) => `Why, that's ${an(c.kind)}, dearie. ${cap(an(c.colour))} ${c.kind}.`, (c) => `Oh, the ${c.colour} one? That's ${an(c.kind)}, love.`],
  none: [(c) => `Oh, dearie, I don't see ${an(c.what)} anywhere. None at all.`, (c) => `None, love. Not ${an(c.what)} in sight, bless you.`],
  side: [(c) => `The ${c.what}? Over on my ${c.side}, dearie.`, (c) => `On my ${c.side}, love, just there.`],
  depth: [(c) => c.rel === "front" ? `Oh, the ${c.a}'s in front of the ${c.b}, dearie, nearer to us.` : `The ${c.a}? It's behind the ${c.b}, love, further back.`],
  nearest: [(c) => `Closest? Oh, that'd be ${an(c.what)}, dearie${c.side ? `, on my ${c.side}` : ""}.`, (c) => `${cap(an(c.what))}, love, nearest of all.`],
  list: [(c) => c.items.length ? `Oh, let me see, dearie: ${listing(c.items)}. That's the lot.` : `Nothing much, love. No barrels, no crates, no sacks, not a bucket.`, (c) => c.items.length ? `Well, love, I see ${listing(c.items)}, bless them.` : `Oh, nothing at all, dearie.`],
};

const MIRA: Lines = {
  yes: [(c) => `Oh! Yes! ${cap(an(c.what))}, right there${c.side ? ` on my ${c.side}` : ""}!`, (c) => `Ooh, yes, friend, ${an(c.what)}!${c.side ? ` Just to my ${c.side}!` : ""}`],
  no: [(c) => `Oh, no, friend! No ${c.what} here, sorry!`, (c) => `No! Not ${an(c.what)} in sight, I'm afraid!`],
  count: [(c) => `Ooh, ${c.n} ${c.what}!`, (c) => `${cap(c.n)}! ${cap(c.n)} ${c.what}, friend!`],
  colour: [(c) => `Oh! It's ${c.colour}! A lovely ${c.colour} ${c.kind}!`, (c) => `${cap(c.colour)}, friend! Such a ${c.colour} ${c.kind}!`],
  kind: [(c) => `Oh! That's ${an(c.kind)}! ${cap(an(c.colour))} ${c.kind}!`, (c) => `The ${c.colour} one? ${cap(an(c.kind))}, friend!`],
  none: [(c) => `Oh, I don't see ${an(c.what)}, friend! None at all!`, (c) => `None! Not ${an(c.what)} anywhere!`],
  side: [(c) => `On my ${c.side}, friend! The ${c.what}!`, (c) => `Ooh, my ${c.side}!`],
  depth: [(c) => c.rel === "front" ? `Oh! The ${c.a} is in front of the ${c.b}!` : `The ${c.a}? Behind the ${c.b}, friend!`],
  nearest: [(c) => `Ooh, ${an(c.what)}! That's closest${c.side ? `, on my ${c.side}` : ""}!`, (c) => `The ${c.what}, friend! Nearest one!`],
  list: [(c) => c.items.length ? `Oh! I see ${listing(c.items)}!` : `Oh, nothing, friend! No barrels, crates, sacks or buckets!`, (c) => c.items.length ? `Ooh, ${listing(c.items)}! What a sight!` : `Nothing at all, sweetheart!`],
};

const WEN: Lines = {
  yes: [(c) => `Hmm... yes, little sprout. ${cap(an(c.what))} sits there${c.side ? `, on my ${c.side}` : ""}, like a seed in the soil.`, (c) => `Ahh, yes. ${cap(an(c.what))}.${c.side ? ` To my ${c.side}.` : ""}`],
  no: [(c) => `Hmm... no, little sprout. No ${c.what} grows here.`, (c) => `No. I see no ${c.what}, young one.`],
  count: [(c) => `Hmm... ${c.n} ${c.what}, little sprout. Count them like seeds.`, (c) => `${cap(c.n)}, young one. ${cap(c.n)} ${c.what}.`],
  colour: [(c) => `Hmm... ${c.colour}, little sprout. ${cap(an(c.colour))} ${c.kind}.`, (c) => `Ahh, it is ${c.colour}, like a leaf in its season.`],
  kind: [(c) => `Hmm... that is ${an(c.kind)}, little sprout. ${cap(an(c.colour))} ${c.kind}.`, (c) => `${cap(an(c.kind))}, young one.`],
  none: [(c) => `Hmm... I see no ${c.what}, little sprout. None.`, (c) => `None, young one. Not ${an(c.what)} in this field.`],
  side: [(c) => `Hmm... on my ${c.side}, little sprout.`, (c) => `The ${c.what} rests on my ${c.side}, young one.`],
  depth: [(c) => c.rel === "front" ? `Ahh... the ${c.a} is in front of the ${c.b}, nearer, like roots before leaves.` : `Hmm... the ${c.a} is behind the ${c.b}, little sprout.`],
  nearest: [(c) => `Hmm... ${an(c.what)}, little sprout. Nearest to my roots.${c.side ? ` On my ${c.side}.` : ""}`, (c) => `The ${c.what}, young one. Closest.`],
  list: [(c) => c.items.length ? `Hmm... ${listing(c.items)}, little sprout. No more.` : `Hmm... nothing, little sprout. An empty field.`, (c) => c.items.length ? `Ahh, I see ${listing(c.items)}.` : `Nothing grows before me, young one. None.`],
};

const VOICES: Record<string, Lines> = { brom: BROM, aldric: ALDRIC, hilde: HILDE, mira: MIRA, wen: WEN };

// After a list, the nearest other thing (a landmark, a villager: the answer line's "near: the …").
const NEAR: Record<string, ((near: string) => string)[]> = {
  brom: [(n) => `The ${n}, close.`, (n) => `And the ${n}. Near.`],
  aldric: [(n) => `Near my post stands the ${n}.`, (n) => `The ${n} is near, citizen.`],
  hilde: [(n) => `And the ${n}, right by us, love.`, (n) => `Oh, and the ${n} close by, dearie.`],
  mira: [(n) => `And the ${n}, right here!`, (n) => `Ooh, and the ${n} close by!`],
  wen: [(n) => `And the ${n}, close as a root, little sprout.`, (n) => `The ${n} stands near, young one.`],
};

/** A reply maker for a character (others speak plainly, like Aldric without the title). */
export function voice(npc: string, rng: Rng): Voice {
  const lines = VOICES[npc] ?? ALDRIC;
  return (c) => {
    const options = lines[c.t] as ((x: Core) => string)[];
    const said = rng.pick(options)(c);
    return c.t === "list" && c.near ? `${said} ${rng.pick(NEAR[npc] ?? NEAR.aldric)(c.near)}` : said;
  };
}
