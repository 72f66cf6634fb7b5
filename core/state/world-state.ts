// Replicated world state (@colyseus/schema v5), shared by server (writes) and client (reads).
// Units: metres, radians. Positions of players and NPCs are their feet; props are their centre.
// float32 fields keep patches small (4 bytes each instead of 8).
import { schema, t, type SchemaType } from "@colyseus/schema";

export const PLAYER_ANIMS = ["idle", "walk", "run", "jump", "fall"] as const;
export type PlayerAnim = (typeof PLAYER_ANIMS)[number];
export const NPC_STATES = ["idle", "patrol", "talk", "walk"] as const;
export type NpcActivity = (typeof NPC_STATES)[number];

export const PlayerState = schema({
  /** The player's sessionId. */
  id: t.string(),
  name: t.string(),
  x: t.float32().default(0),
  y: t.float32().default(0),
  z: t.float32().default(0),
  /** Facing, radians about +Y (0 faces +Z), normalised to (-π, π]. */
  yaw: t.float32().default(0),
  /** One of PLAYER_ANIMS. */
  anim: t.string().default("idle"),
  /** seq of the last `move` input the server applied (client replays newer ones). */
  lastInput: t.uint32().default(0),
  /** Items NPCs gave this player: item id (a card's goods id) → count. */
  inventory: t.map("uint16"),
}, "PlayerState");
export type PlayerState = SchemaType<typeof PlayerState>;

export const NpcState = schema({
  id: t.string(),
  /** Character id (adapters/<character>/). */
  character: t.string(),
  name: t.string(),
  role: t.string(),
  x: t.float32().default(0),
  y: t.float32().default(0),
  z: t.float32().default(0),
  yaw: t.float32().default(0),
  /** One of NPC_STATES. */
  state: t.string().default("idle"),
  /** Gesture playing now: an emote id from the card ("nod", "wave"), "point" while pointing, "" for none. */
  emote: t.string().default(""),
}, "NpcState");
export type NpcState = SchemaType<typeof NpcState>;

/** A movable prop's pose: centre position and rotation quaternion. */
export const PropState = schema({
  id: t.string(),
  x: t.float32().default(0),
  y: t.float32().default(0),
  z: t.float32().default(0),
  qx: t.float32().default(0),
  qy: t.float32().default(0),
  qz: t.float32().default(0),
  qw: t.float32().default(1),
}, "PropState");
export type PropState = SchemaType<typeof PropState>;

export const WorldState = schema({
  /** Keyed by sessionId. */
  players: t.map(PlayerState),
  /** Keyed by NPC id (scene npcs[].id). */
  npcs: t.map(NpcState),
  /** Movable props only, keyed by scene object id; static objects come from the scene file. */
  props: t.map(PropState),
}, "WorldState");
export type WorldState = SchemaType<typeof WorldState>;
