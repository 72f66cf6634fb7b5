import type { CharacterCard } from "../../core/character/schema.ts";
import type { SchedulerRequest, SchedulerResult } from "../../core/runtime/scheduler/scheduler.ts";
import type { StreamChunk } from "../../core/runtime/generate/row.ts";

// What conversations need from their neighbours, as interfaces: the model (the scheduler in a
// worker thread, server/adapters/worker.ts), the memory store (server/memory/store.ts) and the
// safety filter (server/safety/filter.ts). The real classes satisfy these structurally; tests
// can hand in a model that fails.

/** Generation: InferenceWorker (the scheduler in a worker thread) or anything with its shape. */
export interface ReplyModel {
  submit(req: Omit<SchedulerRequest, "onLogits">): { chunks: AsyncIterable<StreamChunk>; result: Promise<SchedulerResult> };
  stats(): Promise<unknown>;
  close(): Promise<void>;
}

export interface MemoryTurn {
  role: "player" | "npc";
  text: string;
  at: number;
}

/** What an NPC remembers of each player, keyed by NPC id and stable player key. */
export interface ConversationMemory {
  addTurn(npc: string, player: string, role: "player" | "npc", text: string, at?: number): void;
  recentTurns(npc: string, player: string, n: number): MemoryTurn[];
  summary(npc: string, player: string): string;
  setSummary(npc: string, player: string, text: string): void;
  /** -1..1 */
  standing(npc: string, player: string): number;
  adjustStanding(npc: string, player: string, delta: number): number;
  playerName?(npc: string, player: string): string | undefined;
  setPlayerName?(npc: string, player: string, name: string): void;
  /** The prompt's memory line (name, standing in words, summary); composed here when absent. */
  memoryLine?(npc: string, player: string): string;
  close(): void;
}

export type SafetyVerdict = { ok: true } | { ok: false; reason: string };

export interface ConversationSafety {
  checkInput(text: string): SafetyVerdict;
  checkOutput(text: string): SafetyVerdict;
  /** An in-character line that deflects, for a filtered line. */
  deflect(card: CharacterCard, reason: string): string;
}
