export * from "./world-state.ts";
