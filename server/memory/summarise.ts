// The cheap, deterministic summariser that folds pruned turns into a pair's summary. No model call:
// it keeps the topics of the player's older lines (content words, counted) and renders the most
// talked-about ones as one sentence: "Earlier they asked about horseshoes, wolves and nails."

/** Words that carry no topic: function words, greetings and chat filler. */
const STOPWORDS = new Set(`
a about above after again against all also am an and any are aren't around as at away back be because been
before being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
done down during each even ever every few for from further get gets getting give go goes going gone good got
had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
how's however i i'd i'll i'm i've if in into is isn't it it's its itself just know let let's like look made
make many may maybe me might mine more most much must mustn't my myself need never new no nor not now of off
oh ok okay on once one only or other ought our ours ourselves out over own please quite rather really right
said same say says see shall she she'd she'll she's should shouldn't so some something still such sure tell
than thank thanks that that's the their theirs them themselves then there there's these they they'd they'll
they're they've thing things think this those though through to too under until up upon us very want wants
was wasn't way we we'd we'll we're we've were weren't what what's when when's where where's whether which
while who who's whom why why's will with won't would wouldn't yeah yes yet you you'd you'll you're you've your
yours yourself yourselves buy sell sells hello hi hey greetings bye goodbye farewell sir madam mister friend lad lass
`.trim().split(/\s+/));

/** A topic word: its key (lowercase, plural folded) and how it was last written. */
export interface Topic {
  word: string;
  count: number;
  /** Turn time (ms) it was last seen; breaks ties between equal counts (recent first). */
  last: number;
}

export type Topics = Record<string, Topic>;

/** Folds simple English plurals so "horseshoe" and "horseshoes" count as one topic. */
export function topicKey(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return word.slice(0, -3) + "y";
  if (word.length > 3 && word.endsWith("s") && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** Content words of a line, lowercase, in order: letters (and inner apostrophes), 3+ characters, no stopwords. */
export function contentWords(text: string): string[] {
  const words = text.normalize("NFKC").toLowerCase().match(/\p{L}+(?:['’]\p{L}+)*/gu) ?? [];
  return words.map((w) => w.replace(/’/g, "'")).filter((w) => w.length >= 3 && !STOPWORDS.has(w));
}

/** Adds the content words of `text` (said at `at`) to `topics`, keeping at most `keep` topics. */
export function foldLine(topics: Topics, text: string, at: number, keep: number): Topics {
  const out: Topics = { ...topics };
  for (const word of contentWords(text)) {
    const key = topicKey(word);
    const t = out[key];
    out[key] = { word, count: (t?.count ?? 0) + 1, last: Math.max(at, t?.last ?? at) };
  }
  const ranked = rankTopics(out);
  if (ranked.length <= keep) return out;
  return Object.fromEntries(ranked.slice(0, keep).map((t) => [topicKey(t.word), t]));
}

/** Topics most talked about first; equal counts, most recent first; then alphabetical (stable). */
export function rankTopics(topics: Topics): Topic[] {
  return Object.values(topics).sort((a, b) => b.count - a.count || b.last - a.last || a.word.localeCompare(b.word));
}

/** "Earlier they asked about horseshoes, wolves and nails." — the top `show` topics; "" when none. */
export function topicsSentence(topics: Topics, show: number): string {
  const words = rankTopics(topics).slice(0, show).map((t) => t.word);
  if (words.length === 0) return "";
  const list = words.length === 1 ? words[0] : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
  return `Earlier they asked about ${list}.`;
}
