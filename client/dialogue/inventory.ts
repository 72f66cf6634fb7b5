// The local player's inventory as the server replicates it (PlayerState.inventory, a map of
// item id → count). Read tolerantly: a server without the field gives null, odd entries are
// skipped.

export type Inventory = Record<string, number>;

/** Items and counts from a player state's `inventory` (a schema MapSchema or a plain object). */
export function readInventory(player: unknown): Inventory | null {
  const inv = (player as { inventory?: unknown } | null | undefined)?.inventory;
  if (inv === undefined || inv === null || typeof inv !== "object") return null;
  const out: Inventory = {};
  const take = (count: unknown, item: unknown) => {
    if (typeof item === "string" && item !== "" && typeof count === "number" && Number.isFinite(count) && count > 0) out[item] = Math.floor(count);
  };
  const maybeMap = inv as { forEach?: (cb: (v: unknown, k: unknown) => void) => void };
  if (typeof maybeMap.forEach === "function") maybeMap.forEach(take);
  else for (const [k, v] of Object.entries(inv)) take(v, k);
  return out;
}

/** Items that grew from `before` to `after`, with how many were added, in `after`'s order. */
export function inventoryGains(before: Inventory, after: Inventory): Array<{ item: string; added: number }> {
  const out: Array<{ item: string; added: number }> = [];
  for (const [item, n] of Object.entries(after)) {
    const added = n - (before[item] ?? 0);
    if (added > 0) out.push({ item, added });
  }
  return out;
}

/** "iron_pot" → "iron pot". */
export function itemLabel(item: string): string {
  return item.replace(/[_-]+/g, " ").trim();
}
