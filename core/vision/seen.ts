import { objectFact, renderNearbyFact, type NearbyFact } from "../prompt/nearby.ts";
import type { SceneObject } from "../scene/schema.ts";
import { sightAnswerLine } from "./ask.ts";
import { viewProps, type PropView, type Pose, type Solid } from "./view.ts";
import { colourWordsIn, countPhrase, kindOfTags, KINDS } from "./vocab.ts";

// What an NPC sees, from the scene graph. For a line about sight answered without a view the
// server writes the usual nearby lines (core/prompt/nearby.ts: the same things, same order) and
// marks each prop in the NPC's view (core/vision/view.ts: inside its eye's frame, near and big
// enough, not hidden behind objects or people) with where it is in that view:
//
//   - barrel-red: quenching barrel, brown, 3 m ahead (north), in sight on the left
//
// Props in view that are not among the usual lines are added after them, nearest first. A first
// line sums the view up, nearest first and counted by kind, or says that nothing is in view (first,
// because a prompt over its budget loses nearby lines from the end):
//
//   - in sight, nearest first: blue crate on the left, red barrel on the right; one barrel, one crate, no sacks, no buckets
//
// Before it, when the player's line asks something core/vision/ask.ts can read, the worked-out
// answer ("- sight answer: one barrel"): the model voices that line rather than reading the others.
//
// so every answer a question about the view wants (a colour, a side, a count, the nearest, what
// is in front of what) stands as words to copy on one line: the small default model copies far
// better than it compares distances or counts marked lines. Annotating rather than replacing keeps every answer the text
// path gives (where the well is, what that brown thing is) and adds what is in sight, so one
// `skill-sight` pack serves both kinds of line. The server answers a line about sight this way
// until it has a vision package it trusts (core/vision/manifest.ts readsViews); the data engine
// (`--sight-lines`) and training/vision/sight-data.ts write the same lines for the pack's samples.

export interface SightFact {
  id: string;
  label: string;
  /** Camera-space depth (m). */
  depth: number;
  side: PropView["side"];
  /** A prop the eyes' detector is not sure of (core/vision/detector.ts faintProps): never listed,
   *  counted or said to be there; a question that names it ("where's the grey crate?") finds it. */
  faint?: true;
  /** A sure prop the detector is less sure of than its list threshold: counted, found and said to be
   *  there, but not named when the NPC says all it sees (a wrong name there is a made-up prop). */
  unlisted?: true;
}

/** The skill pack applied (weight 1) to a reply written from these lines: training/vision/sight-data.ts trains it. */
export const SIGHT_SKILL = "skill-sight";

/** At most this many props in view are written out (the nearest). */
export const MAX_SIGHT_LINES = 8;

/** The first sight line when no prop is in view, so "do you see a barrel?" has something to read. */
export const NOTHING_IN_SIGHT = `in sight: no ${KINDS.map((k) => `${k}s`).join(", ")}`;

/** The props visible to an NPC at `pose`, nearest first; `extra` adds blockers (people). */
export function sightFacts(objects: readonly SceneObject[], pose: Pose, extra: readonly Solid[] = []): SightFact[] {
  return sightOfViews(viewProps(objects, pose, extra));
}

/** A standing person (player, villager) as a sight blocker: a 1.8 m cylinder of radius 0.3. */
export function personSolid(id: string, position: readonly [number, number, number]): Solid {
  return { id, form: "cylinder", centre: [position[0], position[1] + 0.9, position[2]], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], half: [0.3, 0.9, 0.3] };
}

/** The visible ones of already computed prop views, nearest first. */
export function sightOfViews(views: readonly PropView[]): SightFact[] {
  return views
    .filter((p) => p.visible)
    .sort((a, b) => a.depth - b.depth || a.id.localeCompare(b.id))
    .slice(0, MAX_SIGHT_LINES)
    .map((p) => ({ id: p.id, label: `${p.colour} ${p.kind}`, depth: p.depth, side: p.side }));
}

/**
 * The nearby lines for a line about sight: the answer to the player's line `say` when it asks one
 * (core/vision/ask.ts), the summary (sightSummary), `usual` (nearbyFacts) rendered, in-view ones
 * marked, then the in-view props `usual` left out (from `objects`, as seen from `pose`).
 */
export function sightNearby(usual: readonly NearbyFact[], seen: readonly SightFact[], objects: readonly SceneObject[], pose: Pose, say = ""): string[] {
  const sight = seen.filter((s) => !s.faint);
  const side = new Map(sight.map((s) => [s.id, s.side]));
  const mark = (f: NearbyFact) => renderNearbyFact(f) + (side.has(f.id) ? `, in sight on the ${side.get(f.id)}` : "");
  const inSight = new Set(sight.map((s) => s.id));
  // Not a prop (one out of view is not seen; "rain barrel" would read as a barrel), not the player.
  const near = usual.find((f) => f.id !== "player" && !inSight.has(f.id) && !kindOfTags(f.tags))?.name;
  // The colours of the other nearby things (landmarks, villagers, props out of view): "what's that
  // yellow thing?" with no yellow prop in sight is about one of them, or else about nothing.
  const elsewhere = new Set(usual.filter((f) => f.id !== "player" && !inSight.has(f.id)).flatMap((f) => colourWordsIn(`${f.name} ${f.colour ?? ""}`)));
  const answer = say ? sightAnswerLine(say, seen, near, elsewhere) : null;
  const lines = [...(answer ? [answer] : []), sightSummary(sight), ...usual.map(mark)];
  const listed = new Set(usual.map((f) => f.id));
  const byId = new Map(objects.map((o) => [o.id, o]));
  for (const s of sight) {
    const o = byId.get(s.id);
    if (!listed.has(s.id) && o) lines.push(mark(objectFact(o, pose)));
  }
  return lines;
}

/**
 * The props a prompt's summary line (sightSummary) names, as a list ("blue crate on the left, red
 * barrel on the right", "nothing"), or null when the prompt has none.
 */
export function summaryInPrompt(prompt: string): string | null {
  const m = /(?:^|\n|\|>)- in sight(?:, nearest first: ([^;\n]*);|: no )/.exec(prompt);
  return m ? m[1] ?? "nothing" : null;
}

/** The first sight line: the props in view, nearest first, with their side, then a count of each kind (NOTHING_IN_SIGHT when none). */
export function sightSummary(seen: readonly SightFact[]): string {
  const sight = seen.filter((s) => !s.faint);
  if (sight.length === 0) return NOTHING_IN_SIGHT;
  const counts = KINDS.map((k) => {
    const n = sight.filter((s) => s.label.endsWith(` ${k}`) || s.label === k).length;
    return countPhrase(n, k);
  });
  return `in sight, nearest first: ${sight.map((s) => `${s.label} on the ${s.side}`).join(", ")}; ${counts.join(", ")}`;
}
