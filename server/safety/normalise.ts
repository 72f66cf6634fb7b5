// Text normalisation for the safety rules: one canonical form of a line so that spelling tricks
// ("f u c k", "f.u.c.k", "fvck", "ｆｕｃｋ", "fúck", zero-width characters, Cyrillic look-alikes)
// meet the same rule as the plain word. Two views come out:
//
//   plain  — NFKC, no invisible characters or accents, look-alikes mapped, lowercase, single spaces.
//            Regex patterns that read punctuation (URLs, emails, prompt markers) run on it.
//   stream — " tok tok tok ": plain split on spaces and apostrophes ("he'll" is "he ll", not
//            "hell"), outer punctuation trimmed, inner separators (. - _ ~ ^ , `) dropped, runs of
//            3+ single characters joined ("f u c k", "f'u'c'k" → "fuck").
//            Word rules run on it; leetspeak is handled by the word patterns themselves (wordRegex).

/** Cyrillic and Greek letters that look like Latin ones, as used to dodge filters. */
const LOOKALIKES: Record<string, string> = {
  а: "a", в: "b", е: "e", ё: "e", к: "k", м: "m", н: "h", о: "o", р: "p", с: "c", т: "t", у: "y", х: "x",
  і: "i", ї: "i", ј: "j", ѕ: "s", ԁ: "d", ԛ: "q", ԝ: "w", ɡ: "g", ɑ: "a", ı: "i",
  α: "a", β: "b", ε: "e", ι: "i", κ: "k", ν: "v", ο: "o", ρ: "p", τ: "t", υ: "u", χ: "x", ω: "w",
};
const LOOKALIKE_RE = new RegExp(`[${Object.keys(LOOKALIKES).join("")}]`, "g");

/** Leading and trailing punctuation of a token (not leet characters such as @ $ ! | +). */
const OUTER_PUNCT = /^[\s"'“”‘’()[\]{}<>.,;:?¡¿!…-]+|[\s"'“”‘’()[\]{}<>.,;:?¡¿!…-]+$/g;
/** Separators people put between letters: f.u.c.k, f-u-c-k, f_u_c_k. */
const INNER_SEPARATORS = /[.\-_~^,`]/g;

export interface Normalised {
  plain: string;
  stream: string;
}

/** The plain view: NFKC, invisible characters and accents removed, look-alikes mapped, lowercase. */
export function plainText(text: string): string {
  return text
    .normalize("NFKC")
    // Format characters: zero-width space/joiners, soft hyphen, BOM, bidi controls.
    .replace(/\p{Cf}/gu, "")
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(LOOKALIKE_RE, (c) => LOOKALIKES[c])
    .replace(/\s+/g, " ")
    .trim();
}

/** Tokens of the plain view as word rules see them (see the file comment). */
export function streamTokens(plain: string): string[] {
  const raw = plain.split(/[ '’]+/).map((t) => {
    const trimmed = t.replace(OUTER_PUNCT, "");
    // Keep "!" or "|" that stand alone (they may be letters in a spaced-out word, "sh ! t").
    const inner = trimmed.replace(INNER_SEPARATORS, "");
    return inner === "" && /^[!|]$/.test(t) ? t : inner;
  }).filter((t) => t !== "");
  const out: string[] = [];
  for (let i = 0; i < raw.length;) {
    let j = i;
    while (j < raw.length && [...raw[j]].length === 1) j++;
    if (j - i >= 3) {
      out.push(raw.slice(i, j).join(""));
      i = j;
    } else {
      out.push(raw[i]);
      i++;
    }
  }
  return out;
}

export function normalise(text: string): Normalised {
  const plain = plainText(text);
  return { plain, stream: ` ${streamTokens(plain).join(" ")} ` };
}

/** Characters that stand in for each letter in leetspeak and filter dodging. */
const LEET: Record<string, string> = {
  a: "a4@", b: "b8", c: "c(k", e: "e3", g: "g9", i: "i1!|", l: "l1|", o: "o0", s: "s5$z", t: "t7+", u: "uv", z: "z2",
};

function escapeClass(chars: string): string {
  return chars.replace(/[\\\]^-]/g, "\\$&");
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Regex source matching one word of a rule list on the stream: each letter may repeat and may be
 * written with its leet stand-ins ("ass" → a+ s+ s+, so "a$$", "asss" match but "as" does not); a
 * leading or trailing `*` matches any rest of the token ("fuck*" also takes "fucking").
 */
export function wordPattern(word: string): string {
  const starts = word.startsWith("*");
  const ends = word.endsWith("*");
  const core = word.replace(/^\*|\*$/g, "");
  let out = starts ? "[^ ]*" : "";
  for (const ch of core) {
    if (ch === " ") out += " ";
    else if (LEET[ch]) out += `[${escapeClass(LEET[ch])}]+`;
    else out += `${escapeRegex(ch)}+`;
  }
  return out + (ends ? "[^ ]*" : "");
}

/**
 * One regex for a list of words and phrases, run on the stream (whole tokens only). A phrase
 * ("blow job") also matches written as one token ("blowjob").
 */
export function wordRegex(words: readonly string[]): RegExp | undefined {
  const alternatives = new Set<string>();
  for (const w of words) {
    const term = streamTokens(plainText(w)).join(" ");
    if (term === "") continue;
    alternatives.add(wordPattern(term));
    if (term.includes(" ")) alternatives.add(wordPattern(term.replace(/ /g, "")));
  }
  if (alternatives.size === 0) return undefined;
  return new RegExp(`(?<= )(?:${[...alternatives].join("|")})(?= )`, "u");
}
