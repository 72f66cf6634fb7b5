import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nlerp, SnapshotBuffer, yawQuat } from "../client/net/interpolation.ts";
import { Predictor } from "../client/net/prediction.ts";
import { backoffMs } from "../client/net/connection.ts";
import { cameraYawFromAlpha, moveIntent } from "../client/input/move-intent.ts";
import { desiredVelocity } from "../core/movement/index.ts";
import { colourFromId, npcLook, playerLook } from "../client/world/avatar-look.ts";
import { cleanName } from "../client/ui/name-prompt.ts";

// Pure client netcode and input rules: interpolation, prediction/reconciliation, backoff,
// camera-relative movement, avatar looks.

const pose = (x: number, yaw = 0) => ({ position: [x, 0, 0] as [number, number, number], rotation: yawQuat(yaw) });

describe("SnapshotBuffer", () => {
  it("interpolates 100 ms in the past and holds at the ends", () => {
    const b = new SnapshotBuffer();
    expect(b.sample(0)).toBeNull();
    b.push(1000, pose(0));
    b.push(1100, pose(10));
    expect(b.sample(1050)!.position[0]).toBe(0); // render time 950: before the first
    expect(b.sample(1150)!.position[0]).toBeCloseTo(5); // render time 1050: halfway
    expect(b.sample(1300)!.position[0]).toBe(10); // past the newest: hold, no extrapolation
  });

  it("ignores out-of-order snapshots and keeps memory bounded", () => {
    const b = new SnapshotBuffer();
    for (let t = 0; t < 5000; t += 33) b.push(t, pose(t));
    b.push(10, pose(-1));
    expect(b.size).toBeLessThan(40);
    expect(b.latest()!.position[0]).toBe(4983);
  });

  it("rotations blend along the short arc and stay unit length", () => {
    fc.assert(fc.property(fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (a, b, k) => {
      const q = nlerp(yawQuat(a), yawQuat(b), k);
      expect(Math.hypot(...q)).toBeCloseTo(1, 9);
    }));
    // Halfway between yaw 3.0 and -3.0 (0.28 rad apart across ±π) is ±π, not 0.
    const q = nlerp(yawQuat(3.0), yawQuat(-3.0), 0.5);
    expect(Math.abs(2 * Math.atan2(q[1], q[3]))).toBeGreaterThan(3.0);
  });
});

describe("Predictor", () => {
  type In = { seq: number; dx: number };
  const step = (s: number, i: In) => s + i.dx;

  it("replays unacknowledged inputs on top of server state", () => {
    const p = new Predictor<In, number>(step, 0);
    for (let seq = 1; seq <= 5; seq++) p.apply({ seq, dx: 1 });
    expect(p.state).toBe(5);
    // Server applied 1..3 but was blocked by something (3 → 2.5): 4 and 5 replay on top.
    expect(p.reconcile(3, () => 2.5)).toBe(4.5);
    expect(p.unacknowledged).toBe(2);
    expect(p.reconcile(5, () => 4.5)).toBe(4.5);
    expect(p.unacknowledged).toBe(0);
  });

  it("converges to the server for any split of acknowledgements", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 40 }), fc.nat(), (dxs, cut) => {
      const p = new Predictor<In, number>(step, 0);
      dxs.forEach((dx, i) => p.apply({ seq: i + 1, dx }));
      const ack = cut % (dxs.length + 1);
      const server = dxs.slice(0, ack).reduce((a, b) => a + b, 0);
      // A server that agrees with the client predicts the same end state.
      expect(p.reconcile(ack, () => server)).toBe(dxs.reduce((a, b) => a + b, 0));
    }));
  });

  it("skips the replay when the server agrees with the prediction", () => {
    let steps = 0;
    const counting = (s: number, i: In) => { steps++; return s + i.dx; };
    const p = new Predictor<In, number>(counting, 0, (a, b) => Math.abs(a - b) < 1e-9);
    for (let seq = 1; seq <= 5; seq++) p.apply({ seq, dx: 1 });
    expect(steps).toBe(5);
    // The callback sees what we predicted for input 3.
    let seen: number | undefined;
    expect(p.reconcile(3, (at) => { seen = at; return 3; })).toBe(5);
    expect(seen).toBe(3);
    expect(steps).toBe(5); // agreed: nothing replayed
    expect(p.reconcile(4, () => 10)).toBe(11); // disagreed: input 5 replayed on top
    expect(steps).toBe(6);
    expect(p.replayCount).toBe(1);
  });

  it("refuses non-increasing seq and bounds its memory", () => {
    const p = new Predictor<In, number>(step, 0, undefined, 10);
    p.apply({ seq: 1, dx: 1 });
    expect(() => p.apply({ seq: 1, dx: 1 })).toThrow(/seq must increase/);
    for (let seq = 2; seq < 100; seq++) p.apply({ seq, dx: 1 });
    expect(p.unacknowledged).toBe(10);
  });
});

describe("backoff", () => {
  it("doubles from 250 ms up to 8 s with ±20% jitter", () => {
    expect(backoffMs(1, () => 0.5)).toBe(250);
    expect(backoffMs(2, () => 0.5)).toBe(500);
    expect(backoffMs(4, () => 0.5)).toBe(2000);
    expect(backoffMs(20, () => 0.5)).toBe(8000);
    expect(backoffMs(1, () => 0)).toBe(200);
    expect(backoffMs(1, () => 1)).toBe(300);
  });
});

describe("camera-relative movement", () => {
  const axes = (forward: number, right: number) => ({ forward, right, turn: 0, run: false, jump: false });

  it("W walks where the camera looks, D to the camera's right (as core/movement defines right)", () => {
    fc.assert(fc.property(fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }), (camYaw) => {
      const w = moveIntent(axes(1, 0), camYaw, 0)!;
      expect(Math.cos(w.yaw - camYaw)).toBeCloseTo(1, 9);
      // D: the direction core/movement calls "right" at the camera's yaw.
      const d = moveIntent(axes(0, 1), camYaw, 0)!;
      const want = desiredVelocity({ forward: 0, right: 1, run: false, jump: false, yaw: camYaw });
      const got = desiredVelocity({ forward: d.forward, right: d.right, run: false, jump: false, yaw: d.yaw });
      expect(got.x).toBeCloseTo(want.x, 9);
      expect(got.z).toBeCloseTo(want.z, 9);
    }));
  });

  it("sends nothing when idle, a jump in place when only Space is held", () => {
    expect(moveIntent(axes(0, 0), 1, 0.5)).toBeNull();
    expect(moveIntent({ ...axes(0, 0), jump: true }, 1, 0.5)).toEqual({ forward: 0, right: 0, yaw: 0.5, run: false, jump: true });
  });

  it("camera alpha -π/2 looks along +Z", () => {
    expect(cameraYawFromAlpha(-Math.PI / 2)).toBeCloseTo(0);
    expect(cameraYawFromAlpha(Math.PI)).toBeCloseTo(Math.PI / 2); // camera at -X looks toward +X
  });
});

describe("avatar looks", () => {
  it("players get stable, distinct colours from their ids", () => {
    expect(colourFromId("abc")).toEqual(colourFromId("abc"));
    const colours = new Set(["a1", "b2", "c3", "d4", "e5", "f6"].map((id) => colourFromId(id).map((v) => v.toFixed(2)).join()));
    expect(colours.size).toBeGreaterThan(4);
    for (const c of colours) for (const v of c.split(",")) expect(+v).toBeGreaterThanOrEqual(0);
    expect(playerLook("x").parts.map((p) => p.name)).toContain("head");
  });

  it("each village role looks different", () => {
    const roles = ["blacksmith", "merchant", "guard", "innkeeper", "herbalist"];
    const signatures = roles.map((r) => npcLook(r).parts.map((p) => p.name).join());
    expect(new Set(signatures).size).toBe(roles.length);
    expect(npcLook("guard").parts.map((p) => p.name)).toEqual(expect.arrayContaining(["helmet", "spear-shaft"]));
    expect(npcLook("herbalist").parts.find((p) => p.name === "body")!.kind).toBe("cone"); // a robe
    expect(npcLook("blacksmith").parts.map((p) => p.name)).toContain("apron");
  });
});

describe("names", () => {
  it("trims, collapses spaces and says what is wrong", () => {
    expect(cleanName("  Ada   Lovelace ")).toEqual({ name: "Ada Lovelace" });
    expect(cleanName("   ")).toEqual({ error: "Please enter a name." });
    expect(cleanName("x".repeat(25))).toEqual({ error: "Names are at most 24 characters." });
    expect(cleanName("a\u0007b")).toEqual({ error: "Names cannot contain control characters." });
  });
});
