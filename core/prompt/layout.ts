import { MARKERS, stripMarkers } from "./markers.ts";

// The one prompt layout. Plain text with marker tokens; sections in this order, each on its own
// line(s), empty sections left out:
//
//   <|persona|>{persona core}\n- {fact}\n- {fact}\n
//   <|image|>…<|image|>\n                     (visual tokens of the NPC's view, when it has one)
//   <|state|>{state}\n
//   <|near|>- {nearby fact}\n- {nearby fact}\n
//   <|memory|>{memory summary}\n
//   <|player|>{line}<|end|>\n<|npc|>{line}<|end|>\n   (recent turns, oldest first)
//   <|player|>{the player's line}<|end|>\n<|npc|>
//
// The model writes the NPC's line after the final <|npc|> and ends it with <|end|>. The NPC line
// starts with a mood tag and may hold action tags (core/prompt/reply.ts).

export interface Turn {
  role: "player" | "npc";
  text: string;
}

export interface PromptParts {
  /** Persona core from the card; never dropped. */
  persona: string;
  /** Persona facts, most relevant first; trimmed from the end when over budget. */
  facts: string[];
  /** Number of visual tokens of the NPC's view (core/vision); 0 or absent = no view. The runtime
   *  splices the view's embeddings in at these `<|image|>` placeholders. Never dropped. */
  view?: number;
  /** The situation ("calm", "danger: wolves at the gate"); empty = left out. */
  state?: string;
  /** Nearby facts, most important first; trimmed from the end when over budget. */
  nearby: string[];
  /** What the NPC remembers of this player; empty = left out. */
  memory?: string;
  /** Recent dialogue, oldest first; oldest dropped first when over budget. */
  history: Turn[];
  /** The player's line; never dropped. */
  say: string;
}

export type CountTokens = (text: string) => number;

export interface BuiltPrompt {
  text: string;
  /** The parts as they went into `text`, after fitting. */
  parts: PromptParts;
  tokens: number;
  dropped: { turns: number; nearby: number; facts: number };
  /** True when even the persona core and the player's line alone exceed the budget. */
  overBudget: boolean;
}

const clean = (s: string) => stripMarkers(s).replace(/\s+/g, " ").trim();

function personaSection(p: PromptParts): string {
  return `${MARKERS.persona}${clean(p.persona)}\n` + p.facts.map((f) => `- ${clean(f)}\n`).join("");
}

/** The view placeholders: one `<|image|>` per visual token, then a newline. */
export function viewSection(tokens: number | undefined): string {
  if (!tokens) return "";
  if (!Number.isInteger(tokens) || tokens < 0) throw new RangeError(`view: expected a whole number of visual tokens, got ${tokens}`);
  return MARKERS.image.repeat(tokens) + "\n";
}

function contextSections(p: PromptParts): string {
  let out = viewSection(p.view);
  if (p.state && clean(p.state)) out += `${MARKERS.state}${clean(p.state)}\n`;
  if (p.nearby.length > 0) out += `${MARKERS.near}` + p.nearby.map((n) => `- ${clean(n)}\n`).join("");
  if (p.memory && clean(p.memory)) out += `${MARKERS.memory}${clean(p.memory)}\n`;
  return out;
}

export function renderTurn(t: Turn): string {
  return `${t.role === "player" ? MARKERS.player : MARKERS.npc}${clean(t.text)}${MARKERS.end}\n`;
}

/** The full prompt text, ending in "<|npc|>" where the reply begins. */
export function renderPrompt(p: PromptParts): string {
  return personaSection(p) + contextSections(p) + p.history.map(renderTurn).join("") +
    renderTurn({ role: "player", text: p.say }) + MARKERS.npc;
}

/** The completion a model is trained to produce for a reply. */
export function renderCompletion(reply: string): string {
  return `${clean(reply)}${MARKERS.end}`;
}

/** Short memory note for dropped turns: the player's last few dropped lines, clipped. */
function summariseDropped(turns: Turn[]): string {
  const said = turns.filter((t) => t.role === "player").slice(-2)
    .map((t) => `"${clean(t.text).split(" ").slice(0, 8).join(" ")}"`);
  return said.length > 0 ? `Earlier the player said ${said.join(" and ")}.` : "";
}

/**
 * Fits the parts into `budget` tokens: first drops the oldest turns (their gist goes into the
 * memory line), then trims nearby facts from the end, then persona facts from the end. Never
 * drops the persona core or the player's line; if those alone do not fit, returns them with
 * overBudget = true.
 */
export function buildPrompt(parts: PromptParts, budget: number, countTokens: CountTokens): BuiltPrompt {
  if (!Number.isFinite(budget) || budget <= 0) throw new RangeError(`buildPrompt: budget must be a positive number of tokens, got ${budget}`);
  const p: PromptParts = { ...parts, facts: [...parts.facts], nearby: [...parts.nearby], history: [...parts.history] };
  const droppedTurns: Turn[] = [];
  const dropped = { turns: 0, nearby: 0, facts: 0 };
  const withMemory = (): PromptParts => {
    const note = summariseDropped(droppedTurns);
    return note ? { ...p, memory: [p.memory, note].filter(Boolean).join(" ") } : p;
  };
  let current = withMemory();
  let tokens = countTokens(renderPrompt(current));
  while (tokens > budget) {
    if (p.history.length > 0) {
      // Drop a whole exchange when the oldest turn is the player's, so no NPC line is orphaned.
      const n = p.history.length >= 2 && p.history[0].role === "player" && p.history[1].role === "npc" ? 2 : 1;
      droppedTurns.push(...p.history.splice(0, n));
      dropped.turns += n;
    } else if (p.nearby.length > 0) {
      p.nearby.pop();
      dropped.nearby++;
    } else if (p.facts.length > 0) {
      p.facts.pop();
      dropped.facts++;
    } else if (droppedTurns.length > 0 || p.memory) {
      // Last resort before giving up: the memory line itself.
      droppedTurns.length = 0;
      p.memory = "";
    } else {
      break;
    }
    current = withMemory();
    tokens = countTokens(renderPrompt(current));
  }
  return { text: renderPrompt(current), parts: current, tokens, dropped, overBudget: tokens > budget };
}

/**
 * The same prompt as chat messages, for the Jinja chat template in tokenizer_config.json
 * (roles persona, state, near, memory, player, npc; facts and nearby lines pre-joined).
 */
export function toChatMessages(p: PromptParts): { role: string; content: string }[] {
  const msgs: { role: string; content: string }[] = [];
  msgs.push({ role: "persona", content: clean(p.persona) + "\n" + p.facts.map((f) => `- ${clean(f)}\n`).join("") });
  if (p.view) msgs.push({ role: "image", content: viewSection(p.view) });
  if (p.state && clean(p.state)) msgs.push({ role: "state", content: clean(p.state) + "\n" });
  if (p.nearby.length > 0) msgs.push({ role: "near", content: p.nearby.map((n) => `- ${clean(n)}\n`).join("") });
  if (p.memory && clean(p.memory)) msgs.push({ role: "memory", content: clean(p.memory) + "\n" });
  for (const t of p.history) msgs.push({ role: t.role, content: clean(t.text) });
  msgs.push({ role: "player", content: clean(p.say) });
  return msgs;
}

/** Jinja chat template equivalent to renderPrompt(…) over toChatMessages(…) + generation prompt. */
export const CHAT_TEMPLATE =
  "{% for m in messages %}" +
  "{% if m.role == 'persona' or m.role == 'system' %}<|persona|>{{ m.content }}" +
  "{% elif m.role == 'image' %}{{ m.content }}" +
  "{% elif m.role == 'state' %}<|state|>{{ m.content }}" +
  "{% elif m.role == 'near' %}<|near|>{{ m.content }}" +
  "{% elif m.role == 'memory' %}<|memory|>{{ m.content }}" +
  "{% elif m.role == 'player' or m.role == 'user' %}<|player|>{{ m.content }}<|end|>\n" +
  "{% elif m.role == 'npc' or m.role == 'assistant' %}<|npc|>{{ m.content }}<|end|>\n" +
  "{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}<|npc|>{% endif %}";
