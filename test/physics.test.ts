// Physics with the real Rapier world built from scenes: ground, walls, tunnelling, pushing props.
import { beforeAll, describe, expect, it, vi } from "vitest";
import { parseScene } from "../core/scene/load.ts";
import type { SceneInput } from "../core/scene/schema.ts";
import { buildPhysicsWorld, CharacterBody, COLLISION_GROUPS, initPhysics, MOVEMENT, NO_INPUT, RAPIER, type MoveInput } from "../core/movement/index.ts";
import { loadSceneFile } from "../server/scene-file.ts";

const DT = 1 / MOVEMENT.tickHz;

/** A 40x40 m test scene with the given objects and one spawn at the origin. */
function testScene(objects: SceneInput["objects"]) {
  return parseScene({ name: "test", ground: { size: [40, 40] }, objects, spawns: [{ position: [0, 0, 0] }] }, "test.json");
}

/** Steps one character with `input` for `ticks` ticks (character first, then the world). */
function run(physics: ReturnType<typeof buildPhysicsWorld>, character: CharacterBody, input: MoveInput, ticks: number) {
  for (let i = 0; i < ticks; i++) {
    character.step(input, DT);
    physics.world.step();
  }
}

const forward = (run = false): MoveInput => ({ forward: 1, right: 0, run, jump: false, yaw: 0 });

beforeAll(async () => { await initPhysics(); });

describe("character physics", () => {
  it("falls under gravity and comes to rest standing on the ground", () => {
    const physics = buildPhysicsWorld(testScene([]));
    const c = new CharacterBody(physics, [0, 3, 0]);
    run(physics, c, NO_INPUT, 60);
    const feet = c.feet();
    expect(feet.y).toBeGreaterThan(-0.05);
    expect(feet.y).toBeLessThan(0.1);
    expect(c.motion.grounded).toBe(true);
    expect(c.anim()).toBe("idle");
  });

  it("walks at 4 m/s and runs at 7 m/s (steady state)", () => {
    const physics = buildPhysicsWorld(testScene([]));
    const walker = new CharacterBody(physics, [-5, 0, -15]);
    const runner = new CharacterBody(physics, [5, 0, -15]);
    for (let i = 0; i < 30; i++) { walker.step(forward(false), DT); runner.step(forward(true), DT); physics.world.step(); }
    const z0w = walker.feet().z, z0r = runner.feet().z;
    for (let i = 0; i < 30; i++) { walker.step(forward(false), DT); runner.step(forward(true), DT); physics.world.step(); }
    expect(walker.feet().z - z0w).toBeCloseTo(MOVEMENT.walkSpeed, 0);
    expect(runner.feet().z - z0r).toBeCloseTo(MOVEMENT.runSpeed, 0);
    expect(walker.anim()).toBe("walk");
    expect(runner.anim()).toBe("run");
  });

  it("stops at a wall instead of walking through it", () => {
    // Wall 0.2 m thick, its near face at z = 4.9.
    const physics = buildPhysicsWorld(testScene([
      { id: "wall", name: "wall", shape: { kind: "box", size: [10, 3, 0.2] }, position: [0, 1.5, 5] },
    ]));
    const c = new CharacterBody(physics, [0, 0, 0]);
    run(physics, c, forward(false), 90);
    const z = c.feet().z;
    expect(z).toBeLessThan(4.9 - MOVEMENT.capsuleRadius + 0.05);
    expect(z).toBeGreaterThan(4.9 - MOVEMENT.capsuleRadius - 0.2);
  });

  it("does not tunnel through a thin wall at run speed over many ticks", () => {
    const physics = buildPhysicsWorld(testScene([
      { id: "thin", name: "thin wall", shape: { kind: "box", size: [30, 3, 0.05] }, position: [0, 1.5, 3] },
    ]));
    const c = new CharacterBody(physics, [0, 0, 0]);
    // Run into it from several angles for 10 s; never end up beyond it.
    for (const yaw of [0, 0.3, -0.6, 1.2]) {
      for (let i = 0; i < 75; i++) {
        c.step({ forward: 1, right: 0, run: true, jump: i % 20 === 0, yaw }, DT);
        physics.world.step();
        expect(c.feet().z).toBeLessThan(3);
      }
    }
  });

  it("climbs a low step but not a wall-high box", () => {
    const physics = buildPhysicsWorld(testScene([
      { id: "step", name: "step", shape: { kind: "box", size: [4, 0.25, 4] }, position: [0, 0.125, 4] },
      { id: "block", name: "block", shape: { kind: "box", size: [4, 1.2, 4] }, position: [8, 0.6, 4] },
    ]));
    const onStep = new CharacterBody(physics, [0, 0, 0]);
    const atBlock = new CharacterBody(physics, [8, 0, 0]);
    for (let i = 0; i < 45; i++) { onStep.step(forward(), DT); atBlock.step(forward(), DT); physics.world.step(); }
    expect(onStep.feet().y).toBeGreaterThan(0.2);
    expect(onStep.feet().z).toBeGreaterThan(2.5);
    expect(atBlock.feet().y).toBeLessThan(0.1);
    expect(atBlock.feet().z).toBeLessThan(2);
  });

  it("jumps and lands", () => {
    const physics = buildPhysicsWorld(testScene([]));
    const c = new CharacterBody(physics, [0, 0, 0]);
    run(physics, c, NO_INPUT, 10);
    let top = 0;
    c.step({ ...NO_INPUT, jump: true }, DT); physics.world.step();
    expect(c.anim()).toBe("jump");
    for (let i = 0; i < 40; i++) { c.step(NO_INPUT, DT); physics.world.step(); top = Math.max(top, c.feet().y); }
    expect(top).toBeGreaterThan(0.8);
    expect(top).toBeLessThan(1.4);
    expect(c.feet().y).toBeLessThan(0.1);
    expect(c.motion.grounded).toBe(true);
  });

  it("pushes a movable crate by walking into it", () => {
    const physics = buildPhysicsWorld(testScene([
      { id: "crate", name: "crate", shape: { kind: "box", size: [1, 1, 1] }, position: [0, 0.5, 3], movable: true, mass: 15 },
    ]));
    const crate = physics.props.get("crate")!;
    run(physics, new CharacterBody(physics, [0, 0, 0]), forward(), 90);
    expect(crate.translation().z).toBeGreaterThan(3.5);
  });

  it("wedged between the forge's quench tub and hearth, pressing on costs a few controller hits, not 20 a move; it walks out", () => {
    // A spot in the village where a wandering player got stuck: Rapier's controller spent its 20
    // slide iterations on every move there (4.5 ms a move) and moved nothing.
    const physics = buildPhysicsWorld(loadSceneFile("scenes/village.json"));
    const yaw = 0.68; // north-east: into the tub, then the hearth's corner
    const c = new CharacterBody(physics, [14.5383, 0.02, -4.9674], yaw);
    for (let i = 0; i < 5; i++) { c.step({ ...NO_INPUT, yaw }, DT); physics.world.step(); }
    let hits = 0;
    for (let i = 0; i < 30; i++) {
      c.step({ ...forward(), yaw }, DT);
      hits += c.lastHits;
      physics.world.step();
    }
    expect(hits).toBeLessThan(60);
    const f = c.feet();
    expect(Math.hypot(f.x - 14.6, f.z + 4.2)).toBeGreaterThan(0.4 + MOVEMENT.capsuleRadius - 0.02);
    // Turning west, it leaves at walking speed: the remembered walls do not hold it.
    const x0 = f.x;
    run(physics, c, { ...forward(), yaw: -Math.PI / 2 }, 15);
    expect(x0 - c.feet().x).toBeGreaterThan(0.4 * MOVEMENT.walkSpeed * 0.5);
  });

  it("slides along a wall it presses into at an angle, at the speed along the wall", () => {
    const physics = buildPhysicsWorld(testScene([
      { id: "wall", name: "wall", shape: { kind: "box", size: [30, 3, 0.2] }, position: [0, 1.5, 2] },
    ]));
    const yaw = 0.5; // 0.5 rad off the wall's normal
    const c = new CharacterBody(physics, [0, 0, 0], yaw);
    run(physics, c, { ...forward(), yaw }, 45);
    const x0 = c.feet().x;
    let hits = 0;
    for (let i = 0; i < 30; i++) { c.step({ ...forward(), yaw }, DT); hits += c.lastHits; physics.world.step(); }
    expect(c.feet().x - x0).toBeCloseTo(MOVEMENT.walkSpeed * Math.sin(yaw), 0);
    expect(c.feet().z).toBeLessThan(1.9 - MOVEMENT.capsuleRadius + 0.05);
    expect(hits).toBeLessThan(30 * 4);
  });

  it("the open-ground fast path moves exactly as Rapier's controller would, and skips it in the open", () => {
    // A course with a wall, a low step and a crate. Every tick the fast path answers alone, the
    // controller is asked the same question from the same state and must agree.
    const physics = buildPhysicsWorld(testScene([
      { id: "wall", name: "wall", shape: { kind: "box", size: [6, 3, 0.3] }, position: [0, 1.5, 6] },
      { id: "step", name: "step", shape: { kind: "box", size: [2, 0.3, 2] }, position: [4, 0.15, 0] },
      { id: "crate", name: "crate", shape: { kind: "box", size: [1, 1, 1] }, position: [-4.5, 0.5, 3.5], movable: true, mass: 15 },
    ]));
    const inputs: MoveInput[] = [];
    const add = (n: number, input: MoveInput) => { for (let i = 0; i < n; i++) inputs.push(input); };
    add(20, NO_INPUT);                                                     // land from the spawn height
    add(60, forward(true));                                                // run into the wall, slide
    add(1, { ...forward(), jump: true, yaw: Math.PI / 2 });                // jump toward +x
    add(50, { ...forward(), yaw: Math.PI / 2 });                           // onto the step and off it
    add(40, { ...forward(true), yaw: -Math.PI / 2 });                      // back across open ground
    add(60, { ...forward(), yaw: -3 * Math.PI / 4 });                      // into the crate
    add(30, NO_INPUT);
    const c = new CharacterBody(physics, [0, 0.05, 0]);
    // The controller inside CharacterBody is private; the test asks it directly.
    const controller = (c as unknown as { controller: RAPIER.KinematicCharacterController }).controller;
    const spy = vi.spyOn(RAPIER.KinematicCharacterController.prototype, "computeColliderMovement");
    let fastTicks = 0;
    for (const [tick, input] of inputs.entries()) {
      const before = spy.mock.calls.length;
      c.step(input, DT);
      if (spy.mock.calls.length === before && (input.forward !== 0 || !c.motion.grounded)) {
        fastTicks++;
        const from = c.body.translation(), to = c.body.nextTranslation();
        const delta = { x: to.x - from.x, y: to.y - from.y, z: to.z - from.z };
        controller.computeColliderMovement(c.collider, delta, undefined, COLLISION_GROUPS.playerMovement);
        const m = controller.computedMovement();
        // Within 5 mm: the controller itself wobbles by ~1 mm in y on flat ground.
        expect(Math.hypot(m.x - delta.x, m.z - delta.z), `tick ${tick}`).toBeLessThan(5e-3);
        expect(Math.abs(m.y - delta.y), `tick ${tick}`).toBeLessThan(MOVEMENT.skin);
        expect(controller.computedGrounded(), `tick ${tick}`).toBe(c.motion.grounded);
      }
      physics.world.step();
    }
    spy.mockRestore();
    // Most moving ticks were in the open; the crate was still pushed (through the controller).
    expect(fastTicks).toBeGreaterThan(60);
    const crate = physics.props.get("crate")!.translation();
    expect(Math.hypot(crate.x + 4.5, crate.z - 3.5)).toBeGreaterThan(0.3);
  });

  it("builds the village: every movable prop is a dynamic body and a spawn is standable", () => {
    const scene = loadSceneFile("scenes/village.json");
    const physics = buildPhysicsWorld(scene);
    expect([...physics.props.keys()].sort()).toEqual(scene.objects.filter((o) => o.movable).map((o) => o.id).sort());
    const c = new CharacterBody(physics, scene.spawns[0].position);
    run(physics, c, NO_INPUT, 30);
    expect(Math.abs(c.feet().y)).toBeLessThan(0.1);
    // Props settle and stay put on their own.
    for (let i = 0; i < 60; i++) physics.world.step();
    for (const o of scene.objects.filter((o) => o.movable)) {
      const p = physics.props.get(o.id)!.translation();
      expect(Math.hypot(p.x - o.position[0], p.z - o.position[2]), o.id).toBeLessThan(0.3);
    }
  });
});
