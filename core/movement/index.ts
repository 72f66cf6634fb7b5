// Movement shared by server and client: rules, the Rapier world from a scene, the character body.
export * from "./rules.ts";
export * from "./rotation.ts";
export * from "./world.ts";
export * from "./character.ts";
