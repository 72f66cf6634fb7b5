// Client↔server protocol: message schemas, the validator, limits.
export * from "./messages.ts";
export * from "./validate.ts";
export * from "./limits.ts";
export * from "./token-bucket.ts";
export * from "./size.ts";
