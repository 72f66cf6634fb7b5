// Server colliders must be rotated exactly as the client's Babylon meshes are.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Quaternion } from "@babylonjs/core/Maths/math.vector.js";
import { quaternionFromEuler } from "../core/movement/rotation.ts";
import { desiredVelocity, MOVEMENT, normalizeYaw } from "../core/movement/rules.ts";

describe("rotation and movement rules", () => {
  it("Euler → quaternion matches Babylon's RotationYawPitchRoll", () => {
    const angle = fc.double({ min: -7, max: 7, noNaN: true });
    fc.assert(fc.property(angle, angle, angle, (x, y, z) => {
      const ours = quaternionFromEuler([x, y, z]);
      const theirs = Quaternion.RotationYawPitchRoll(y, x, z);
      expect(ours.x).toBeCloseTo(theirs.x, 9);
      expect(ours.y).toBeCloseTo(theirs.y, 9);
      expect(ours.z).toBeCloseTo(theirs.z, 9);
      expect(ours.w).toBeCloseTo(theirs.w, 9);
    }));
  });

  it("desired velocity never exceeds the run speed, and faces the yaw", () => {
    const axis = fc.double({ min: -1, max: 1, noNaN: true });
    fc.assert(fc.property(axis, axis, fc.boolean(), fc.double({ min: -50, max: 50, noNaN: true }), (forward, right, run, yaw) => {
      const v = desiredVelocity({ forward, right, run, jump: false, yaw });
      expect(Math.hypot(v.x, v.z)).toBeLessThanOrEqual((run ? MOVEMENT.runSpeed : MOVEMENT.walkSpeed) + 1e-9);
    }));
    const v = desiredVelocity({ forward: 1, right: 0, run: false, jump: false, yaw: Math.PI / 2 });
    expect(v.x).toBeCloseTo(MOVEMENT.walkSpeed, 9);
    expect(v.z).toBeCloseTo(0, 9);
    const r = desiredVelocity({ forward: 0, right: 1, run: false, jump: false, yaw: 0 });
    expect(r.x).toBeCloseTo(MOVEMENT.walkSpeed, 9);
  });

  it("normalizeYaw lands in (-π, π] and keeps the direction", () => {
    fc.assert(fc.property(fc.double({ min: -1000, max: 1000, noNaN: true }), (yaw) => {
      const n = normalizeYaw(yaw);
      expect(n).toBeGreaterThan(-Math.PI - 1e-12);
      expect(n).toBeLessThanOrEqual(Math.PI + 1e-12);
      expect(Math.cos(n)).toBeCloseTo(Math.cos(yaw), 6);
      expect(Math.sin(n)).toBeCloseTo(Math.sin(yaw), 6);
    }));
  });
});
