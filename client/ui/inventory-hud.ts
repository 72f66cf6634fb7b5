import { itemLabel, type Inventory } from "../dialogue/inventory.ts";

// Top-right list of what the player carries, and a brief "+1 horseshoe" toast per gain.

const TOAST_MS = 2600;

export class InventoryHud {
  readonly el: HTMLDivElement;
  private list: HTMLUListElement;
  private toasts: HTMLDivElement;
  private shown = "";

  constructor(parent: HTMLElement) {
    this.el = document.createElement("div");
    this.el.id = "inventory";
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = "Inventory";
    this.list = document.createElement("ul");
    // Toasts appear under the list, inside the HUD (a gain always comes with a visible HUD).
    this.toasts = document.createElement("div");
    this.toasts.id = "inventory-toasts";
    this.el.append(title, this.list, this.toasts);
    this.el.hidden = true;
    parent.append(this.el);
  }

  set(inv: Inventory | null): void {
    const key = JSON.stringify(inv);
    if (key === this.shown) return;
    this.shown = key;
    const items = Object.entries(inv ?? {}).sort((a, b) => a[0].localeCompare(b[0]));
    this.el.hidden = items.length === 0;
    this.list.replaceChildren(...items.map(([item, n]) => {
      const li = document.createElement("li");
      li.dataset.item = item;
      const name = document.createElement("span");
      name.textContent = itemLabel(item);
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = `×${n}`;
      li.append(name, count);
      return li;
    }));
  }

  toast(item: string, added: number): void {
    const t = document.createElement("div");
    t.className = "toast";
    t.textContent = `+${added} ${itemLabel(item)}`;
    this.toasts.append(t);
    setTimeout(() => t.classList.add("fade"), TOAST_MS - 500);
    setTimeout(() => t.remove(), TOAST_MS);
  }
}
