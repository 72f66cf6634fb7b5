import type { Room } from "@colyseus/sdk";
import type { WorldState } from "../../core/state/index.ts";
import { SnapshotBuffer, yawQuat, type Pose } from "../net/interpolation.ts";
import { Avatar } from "../world/avatars.ts";
import { npcLook, playerLook } from "../world/avatar-look.ts";
import { colourToRgb, type Rgb } from "../world/scene-plan.ts";
import type { Palette } from "../world/build-world.ts";
import type { Mesh, Scene, ShadowGenerator } from "../world/babylon.ts";
import type { Scene as KithScene } from "../../core/scene/schema.ts";

// Everything in the world that the server moves: remote players, NPCs and movable props.
// After each state patch we record a snapshot per entity (time-stamped on arrival) and
// draw them INTERP_DELAY_MS in the past (net/interpolation.ts). The local player's avatar
// lives here too, but its pose comes from prediction (game/local-player.ts).

type Tracked = { avatar: Avatar; buffer: SnapshotBuffer; anim: string; name: string; role?: string };

export type EntityView = {
  id: string; name: string; role?: string; x: number; y: number; z: number; yaw: number; anim: string;
  /** Line in the speech bubble over their head, "" when none. */
  saying: string;
  /** The bubble shows "thinking" dots. */
  thinking: boolean;
  /** Gesture playing ("wave", "nod", "point", …) or null. */
  gesture: string | null;
};

export class Entities {
  readonly players = new Map<string, Tracked>();
  readonly npcs = new Map<string, Tracked>();
  private props = new Map<string, SnapshotBuffer>();
  private npcColours = new Map<string, Rgb | undefined>();

  constructor(
    private scene: Scene,
    private palette: Palette,
    private shadows: ShadowGenerator | null,
    /** Scene meshes by object id, for movable props. */
    private propMeshes: Map<string, Mesh>,
    sceneFile: KithScene,
  ) {
    for (const n of sceneFile.npcs) this.npcColours.set(n.id, n.colour ? colourToRgb(n.colour) : undefined);
  }

  /**
   * Bring the tracked set in line with the room state and record a snapshot of every
   * entity at local time `now` (ms). Called after every patch.
   */
  sync(state: WorldState, now: number, selfId: string | null): void {
    const seenPlayers = new Set<string>();
    state.players.forEach((p, id) => {
      seenPlayers.add(id);
      let t = this.players.get(id);
      if (!t || t.name !== p.name) {
        t?.avatar.dispose();
        const label = { name: id === selfId ? `${p.name} (you)` : p.name };
        t = { avatar: new Avatar(this.scene, id, playerLook(id), label, this.palette, this.shadows), buffer: new SnapshotBuffer(), anim: "idle", name: p.name };
        this.players.set(id, t);
      }
      t.anim = p.anim;
      t.buffer.push(now, { position: [p.x, p.y, p.z], rotation: yawQuat(p.yaw) });
    });
    for (const [id, t] of this.players) if (!seenPlayers.has(id)) { t.avatar.dispose(); this.players.delete(id); }

    const seenNpcs = new Set<string>();
    state.npcs.forEach((n, id) => {
      seenNpcs.add(id);
      let t = this.npcs.get(id);
      if (!t) {
        const look = npcLook(n.role, this.npcColours.get(id));
        t = { avatar: new Avatar(this.scene, id, look, { name: n.name, role: n.role }, this.palette, this.shadows), buffer: new SnapshotBuffer(), anim: "idle", name: n.name, role: n.role };
        this.npcs.set(id, t);
      }
      // NPC activity → walk hint: patrolling NPCs and those sent somewhere (walk_to) walk; idle and talking ones stand.
      t.anim = n.state === "patrol" || n.state === "walk" ? "walk" : "idle";
      t.buffer.push(now, { position: [n.x, n.y, n.z], rotation: yawQuat(n.yaw) });
    });
    for (const [id, t] of this.npcs) if (!seenNpcs.has(id)) { t.avatar.dispose(); this.npcs.delete(id); }

    state.props.forEach((p, id) => {
      let b = this.props.get(id);
      if (!b) { b = new SnapshotBuffer(); this.props.set(id, b); }
      b.push(now, { position: [p.x, p.y, p.z], rotation: [p.qx, p.qy, p.qz, p.qw] });
    });
  }

  /** Draw everything except the local player at render time now (ms); dt in seconds. */
  render(now: number, dt: number, selfId: string | null): void {
    for (const [id, t] of this.players) {
      if (id === selfId) continue;
      place(t, t.buffer.sample(now), dt);
    }
    for (const t of this.npcs.values()) place(t, t.buffer.sample(now), dt);
    for (const [id, b] of this.props) {
      const mesh = this.propMeshes.get(id);
      const pose = b.sample(now);
      if (!mesh || !pose) continue;
      mesh.position.set(pose.position[0], pose.position[1], pose.position[2]);
      if (!mesh.rotationQuaternion) mesh.rotationQuaternion = mesh.rotation.toQuaternion();
      mesh.rotationQuaternion.set(pose.rotation[0], pose.rotation[1], pose.rotation[2], pose.rotation[3]);
    }
  }

  /** Drop everything (a fresh room after reconnect brings a full new state). */
  clear(): void {
    for (const t of this.players.values()) t.avatar.dispose();
    for (const t of this.npcs.values()) t.avatar.dispose();
    this.players.clear();
    this.npcs.clear();
    this.props.clear();
  }

  /** Interpolated views for the debug hook. */
  views(kind: "players" | "npcs"): EntityView[] {
    const out: EntityView[] = [];
    for (const [id, t] of this[kind]) {
      const p = t.avatar.root.position;
      const q = t.avatar.root.rotationQuaternion!;
      out.push({ id, name: t.name, role: t.role, x: p.x, y: p.y, z: p.z, yaw: 2 * Math.atan2(q.y, q.w), anim: t.anim, saying: t.avatar.saying, thinking: t.avatar.thinking, gesture: t.avatar.gesturing });
    }
    return out;
  }
}

function place(t: Tracked, pose: Pose | null, dt: number): void {
  if (!pose) return;
  t.avatar.setPose(pose.position, pose.rotation);
  t.avatar.walking = t.anim === "walk" || t.anim === "run";
  t.avatar.animate(dt);
}

/** Room typed with our state class, as the connection hands it over. */
export type WorldRoom = Room<any, WorldState>;
