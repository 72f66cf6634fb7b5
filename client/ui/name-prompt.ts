// The player's display name: ?name= in the URL wins, else a small form (pre-filled with
// the last name used on this browser). Names are 1..24 characters after trimming.

export const MAX_NAME = 24;
const STORE_KEY = "kith.name";

/** Trimmed, whitespace-collapsed name, or an error message saying what is wrong. */
export function cleanName(raw: string): { name: string } | { error: string } {
  const name = raw.replace(/\s+/g, " ").trim();
  if (!name) return { error: "Please enter a name." };
  // The server accepts printable characters only (no control codes).
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return { error: "Names cannot contain control characters." };
  if (name.length > MAX_NAME) return { error: `Names are at most ${MAX_NAME} characters.` };
  return { name };
}

/** onAsk runs when the form is shown (no usable ?name=), e.g. to say so on the status badge. */
export function askNameAsync(parent: HTMLElement, onAsk?: () => void): Promise<string> {
  const fromUrl = new URLSearchParams(location.search).get("name");
  if (fromUrl) {
    const r = cleanName(fromUrl);
    if ("name" in r) return Promise.resolve(r.name);
  }
  return new Promise((resolve) => {
    const form = document.createElement("form");
    form.id = "name-prompt";
    form.innerHTML = `<h1>Kith</h1><p>Who walks into the village?</p>
      <input name="name" autocomplete="nickname" maxlength="${MAX_NAME}" placeholder="Your name" />
      <button type="submit">Enter</button><p class="error" role="alert"></p>`;
    const input = form.querySelector("input")!;
    const error = form.querySelector(".error")!;
    input.value = localStorage.getItem(STORE_KEY) ?? "";
    input.addEventListener("keydown", (e) => e.stopPropagation());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const r = cleanName(input.value);
      if ("error" in r) { error.textContent = r.error; return; }
      localStorage.setItem(STORE_KEY, r.name);
      form.remove();
      resolve(r.name);
    });
    parent.append(form);
    input.focus();
    onAsk?.();
  });
}
