import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// The renderer (training/vision/render.ts) in headless Chromium: the same views whether a page
// renders them all or is loaded afresh between batches (--fresh-every), so a long run can start
// new documents without changing the dataset.

const dir = mkdtempSync(join(tmpdir(), "kith-render-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function render(out: string, freshEvery: number): { images: Buffer; views: string[] } {
  execFileSync("npx", ["tsx", "training/vision/render.ts", "--split", "t", "--count", "12", "--seed", "31", "--batch", "4",
    "--fresh-every", String(freshEvery), "--out", out], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return { images: readFileSync(join(out, "t", "images.u8")), views: readFileSync(join(out, "t", "views.jsonl"), "utf8").trim().split("\n") };
}

describe("vision:render", () => {
  it("renders the same views when its page is loaded afresh every 4 views as when it never is", () => {
    const once = render(join(dir, "once"), 0), fresh = render(join(dir, "fresh"), 4);
    expect(once.views).toHaveLength(12);
    expect(once.images.length).toBe(12 * 64 * 64 * 3);
    expect(fresh.views).toEqual(once.views);
    expect(fresh.images.equals(once.images)).toBe(true);
    // Not a blank picture: the views differ from one another.
    expect(once.images.subarray(0, 64 * 64 * 3).equals(once.images.subarray(64 * 64 * 3, 2 * 64 * 64 * 3))).toBe(false);
  }, 180_000);
});
