import type { Game } from "./game/game.ts";
import type { ConnectionState } from "./ui/status.ts";
import type { EntityView } from "./game/entities.ts";
import type { DialogueDebug } from "./dialogue/dialogue.ts";
import type { VisionDebug } from "./vision/npc-vision.ts";

// A tiny, read-only window into the running client for tests and curious players:
// `window.__kith.state()` returns a fresh snapshot of real values each call. Nothing here
// can change the game.

export type KithDebugState = {
  status: ConnectionState;
  connected: boolean;
  sessionId: string | null;
  /** Local player: predicted feet position (m), yaw (rad), inputs not yet acknowledged. */
  me: { x: number; y: number; z: number; yaw: number; pending: number } | null;
  /** Everyone else as drawn this frame (interpolated), the local player included. */
  players: EntityView[];
  npcs: EntityView[];
  /** Chat log lines as shown: "sender: text". */
  chat: string[];
  /** Frames per second the engine reports. */
  fps: number;
  /** Camera yaw (rad): W walks this way. */
  cameraYaw: number;
  /**
   * NPC dialogue: the talk target, each NPC's bubble (text, phase, every text it showed),
   * thinking flags, moods, the panel's weights, recent replies and actions, our inventory.
   */
  dialogue: DialogueDebug | null;
  /** NPC views: mode (features | pixels | off | loading), encode and capture times (ms), views sent, refusals. */
  vision: VisionDebug | null;
};

declare global {
  interface Window { __kith?: { state(): KithDebugState } }
}

export function installDebugHook(src: {
  game: () => Game | null;
  status: () => ConnectionState;
  chatLog: HTMLElement;
  fps: () => number;
  cameraYaw: () => number;
}): void {
  const hook = {
    state(): KithDebugState {
      const game = src.game();
      const me = game?.me?.state;
      return {
        status: src.status(),
        connected: src.status() === "connected",
        sessionId: game?.selfId ?? null,
        me: me ? { x: me.feet[0], y: me.feet[1], z: me.feet[2], yaw: me.yaw, pending: game!.me!.pending } : null,
        players: game ? game.entities.views("players") : [],
        npcs: game ? game.entities.views("npcs") : [],
        chat: [...src.chatLog.querySelectorAll(".line")].map((l) => `${l.querySelector(".from")?.textContent}: ${l.querySelector(".text")?.textContent}`),
        fps: src.fps(),
        cameraYaw: src.cameraYaw(),
        dialogue: game ? game.dialogue.debug() : null,
        vision: game ? game.vision.debug() : null,
      };
    },
  };
  Object.defineProperty(window, "__kith", { value: Object.freeze(hook), configurable: false, writable: false });
}
