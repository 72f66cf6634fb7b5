import type { Rgb } from "./scene-plan.ts";

// What an avatar looks like, as plain data: a list of primitive parts placed relative to
// the character's feet (metres; +Z is the way the character faces). avatars.ts builds
// them with Babylon. Players get a colour from their id; NPCs get a look per role.

export type Part = {
  name: string;
  kind: "box" | "sphere" | "cylinder" | "cone" | "capsule";
  /** box: [w, h, d]; round shapes: [diameter, height, diameter]. */
  size: [number, number, number];
  /** Centre of the part, relative to the feet. */
  at: [number, number, number];
  /** Euler [x, y, z] radians. */
  rotation?: [number, number, number];
  colour: Rgb;
};

export type Look = { parts: Part[]; /** Height of the name tag's centre above the feet. */ tagHeight: number };

const SKIN: Rgb = [0.93, 0.78, 0.64];
const hex = (h: string): Rgb => {
  const n = Number.parseInt(h.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
};

/** Stable, well-saturated colour from any id string (FNV-1a hash → hue). */
export function colourFromId(id: string): Rgb {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  const hue = ((h >>> 0) % 360) / 360;
  return hslToRgb(hue, 0.6, 0.5);
}

export function hslToRgb(h: number, s: number, l: number): Rgb {
  const f = (n: number) => {
    const k = (n + h * 12) % 12;
    const a = s * Math.min(l, 1 - l);
    return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [f(0), f(8), f(4)];
}

/** Body and head shared by everyone: 1.75 m tall, facing +Z. */
function base(body: Rgb, opts: { skin?: Rgb; robe?: boolean } = {}): Part[] {
  const skin = opts.skin ?? SKIN;
  const parts: Part[] = [
    opts.robe
      ? { name: "body", kind: "cone", size: [0.8, 1.45, 0.8], at: [0, 0.72, 0], colour: body }
      : { name: "body", kind: "capsule", size: [0.56, 1.35, 0.56], at: [0, 0.68, 0], colour: body },
    { name: "head", kind: "sphere", size: [0.38, 0.38, 0.38], at: [0, 1.52, 0], colour: skin },
    // Arms hang slightly away from the body; hands in skin colour.
    { name: "arm-l", kind: "capsule", size: [0.15, 0.6, 0.15], at: [-0.34, 0.98, 0], rotation: [0, 0, -0.12], colour: body },
    { name: "arm-r", kind: "capsule", size: [0.15, 0.6, 0.15], at: [0.34, 0.98, 0], rotation: [0, 0, 0.12], colour: body },
    { name: "hand-l", kind: "sphere", size: [0.12, 0.12, 0.12], at: [-0.38, 0.68, 0], colour: skin },
    { name: "hand-r", kind: "sphere", size: [0.12, 0.12, 0.12], at: [0.38, 0.68, 0], colour: skin },
    // Eyes show which way the character faces.
    { name: "eye-l", kind: "sphere", size: [0.06, 0.06, 0.06], at: [-0.075, 1.56, 0.17], colour: [0.1, 0.1, 0.12] },
    { name: "eye-r", kind: "sphere", size: [0.06, 0.06, 0.06], at: [0.075, 1.56, 0.17], colour: [0.1, 0.1, 0.12] },
  ];
  return parts;
}

export function playerLook(id: string): Look {
  const c = colourFromId(id);
  const darker: Rgb = [c[0] * 0.6, c[1] * 0.6, c[2] * 0.6];
  return {
    parts: [
      ...base(c),
      { name: "belt", kind: "cylinder", size: [0.6, 0.08, 0.6], at: [0, 0.78, 0], colour: darker },
    ],
    tagHeight: 2.0,
  };
}

/**
 * NPC look by role. Unknown roles get a plain look in the NPC's colour (or grey).
 * `colour` from the scene, when given, tints the main garment.
 */
export function npcLook(role: string, colour?: Rgb): Look {
  const r = role.toLowerCase();
  if (r.includes("smith")) {
    const body = colour ?? hex("#3b3f46");
    return {
      parts: [
        ...base(body),
        { name: "apron", kind: "box", size: [0.46, 0.8, 0.06], at: [0, 0.72, 0.27], colour: hex("#6b4426") },
        { name: "hammer-handle", kind: "cylinder", size: [0.05, 0.5, 0.05], at: [0.38, 0.75, 0.05], colour: hex("#7a5532") },
        { name: "hammer-head", kind: "box", size: [0.1, 0.12, 0.22], at: [0.38, 1.0, 0.05], colour: hex("#55585e") },
      ],
      tagHeight: 2.05,
    };
  }
  if (r.includes("merchant") || r.includes("trader")) {
    const body = colour ?? hex("#8a3fbf");
    return {
      parts: [
        ...base(body),
        { name: "sash", kind: "cylinder", size: [0.6, 0.12, 0.6], at: [0, 0.8, 0], colour: hex("#f2c94c") },
        { name: "hat-brim", kind: "cylinder", size: [0.55, 0.04, 0.55], at: [0, 1.7, 0], colour: hex("#e0b020") },
        { name: "hat-top", kind: "cylinder", size: [0.3, 0.22, 0.3], at: [0, 1.82, 0], colour: hex("#c8392b") },
      ],
      tagHeight: 2.2,
    };
  }
  if (r.includes("guard") || r.includes("soldier")) {
    const body = colour ?? hex("#2f4f8c");
    return {
      parts: [
        ...base(body),
        { name: "breastplate", kind: "box", size: [0.5, 0.5, 0.1], at: [0, 1.0, 0.24], colour: hex("#a7abb2") },
        { name: "helmet", kind: "sphere", size: [0.44, 0.44, 0.44], at: [0, 1.6, 0], colour: hex("#9ea3aa") },
        { name: "helmet-crest", kind: "box", size: [0.05, 0.14, 0.36], at: [0, 1.84, 0], colour: hex("#b8201a") },
        { name: "spear-shaft", kind: "cylinder", size: [0.05, 2.3, 0.05], at: [0.42, 1.1, 0.1], colour: hex("#6b4a2b") },
        { name: "spear-tip", kind: "cone", size: [0.1, 0.28, 0.1], at: [0.42, 2.39, 0.1], colour: hex("#c9ccd1") },
      ],
      tagHeight: 2.45,
    };
  }
  if (r.includes("inn") || r.includes("tavern") || r.includes("barkeep")) {
    const body = colour ?? hex("#8e3b2e");
    return {
      parts: [
        ...base(body),
        { name: "apron", kind: "box", size: [0.48, 0.7, 0.06], at: [0, 0.62, 0.27], colour: hex("#f1ece0") },
        { name: "mug", kind: "cylinder", size: [0.12, 0.16, 0.12], at: [0.36, 0.85, 0.12], colour: hex("#9b7048") },
        { name: "hair", kind: "sphere", size: [0.4, 0.2, 0.4], at: [0, 1.66, -0.03], colour: hex("#c06a33") },
      ],
      tagHeight: 2.05,
    };
  }
  if (r.includes("herb") || r.includes("healer") || r.includes("druid")) {
    const body = colour ?? hex("#3e8e4a");
    return {
      parts: [
        ...base(body, { robe: true }),
        { name: "hood", kind: "cone", size: [0.5, 0.45, 0.5], at: [0, 1.72, -0.04], colour: hex("#2d5e34") },
        { name: "staff", kind: "cylinder", size: [0.05, 1.7, 0.05], at: [0.4, 0.85, 0.1], colour: hex("#7a5a38") },
        { name: "staff-leaf", kind: "sphere", size: [0.16, 0.16, 0.16], at: [0.4, 1.75, 0.1], colour: hex("#7fd15a") },
      ],
      tagHeight: 2.1,
    };
  }
  return { parts: base(colour ?? [0.55, 0.55, 0.55]), tagHeight: 2.0 };
}

/** Height of the neck joint above the feet (m): the head turns and nods about this point. */
export const NECK_Y = 1.34;

/**
 * The joint a part hangs from: arms and hands from their shoulder, the head and what sits on it
 * (eyes, hair, hat, helmet, hood) from the neck, everything else from the body.
 */
export function jointOf(partName: string): "shoulder-l" | "shoulder-r" | "neck" | "body" {
  const side = /^(arm|hand)-([lr])$/.exec(partName)?.[2];
  if (side) return side === "l" ? "shoulder-l" : "shoulder-r";
  if (/^(head|eye-[lr]|hair|hood|hat(-.*)?|helmet(-.*)?)$/.test(partName)) return "neck";
  return "body";
}
