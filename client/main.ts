import { WorldState } from "../core/state/index.ts";
import { parseScene } from "../core/scene/load.ts";
import { buildPhysicsWorld, initPhysics } from "../core/movement/index.ts";
import { Engine, Scene } from "./world/babylon.ts";
import { planScene } from "./world/scene-plan.ts";
import { buildWorld } from "./world/build-world.ts";
import { FollowCamera } from "./world/camera.ts";
import { AdaptiveResolution } from "./world/adaptive-resolution.ts";
import { Avatar } from "./world/avatars.ts";
import { npcLook } from "./world/avatar-look.ts";
import { Keys } from "./input/keys.ts";
import { StatusBadge } from "./ui/status.ts";
import { ChatBox } from "./ui/chat.ts";
import { Notices } from "./ui/notice.ts";
import { TalkPrompt } from "./ui/talk-prompt.ts";
import { NpcPanel } from "./ui/npc-panel.ts";
import { InventoryHud } from "./ui/inventory-hud.ts";
import { askNameAsync } from "./ui/name-prompt.ts";
import { Connection } from "./net/connection.ts";
import { dataBase, serverEndpoint } from "./net/endpoint.ts";
import { Game } from "./game/game.ts";
import { installDebugHook } from "./debug-hook.ts";

// Boot: UI first (so the status shows at once), then the scene file, the 3D world and the
// prediction physics, then the connection. Anything that fails shows a message on screen.

const ROOM = "world";

async function mainAsync(): Promise<void> {
  const ui = document.getElementById("ui")!;
  const canvas = document.getElementById("world") as HTMLCanvasElement;
  const status = new StatusBadge(ui);
  const chat = new ChatBox(ui);
  const notices = new Notices(ui);
  const dialogueUi = { prompt: new TalkPrompt(chat.input), panel: new NpcPanel(ui), inventory: new InventoryHud(ui) };
  addHelp(ui);
  const keys = new Keys(window, () => chat.typing);

  const engine = new Engine(canvas, true, { preserveDrawingBuffer: true, stencil: false }, true);
  const scene = new Scene(engine);
  const camera = new FollowCamera(scene, canvas);
  let game: Game | null = null;
  installDebugHook({
    game: () => game,
    status: () => status.state,
    chatLog: chat.log,
    fps: () => engine.getFps(),
    cameraYaw: () => camera.yaw,
  });

  // By default the page draws the scene the server runs (/scene.json); ?scene=<file name> picks a
  // file from /scenes/ instead (for a page served elsewhere, e.g. the Vite dev server).
  const sceneName = new URLSearchParams(location.search).get("scene");
  const [sceneFile, name] = await Promise.all([loadSceneAsync(sceneName), askNameAsync(ui, () => status.set("connecting", "waiting for your name")), initPhysics()]);
  const world = buildWorld(planScene(sceneFile), scene);
  const physics = buildPhysicsWorld(sceneFile);
  // Before we have a player, look at the first spawn point.
  const spawn = sceneFile.spawns[0];
  camera.snapTo(spawn.position);
  camera.lookAlong(spawn.facing);

  // NPC views: the server's vision package; `?vision=pixels` sends pictures, `?vision=off` nothing.
  const vision = { base: `${dataBase()}/vision`, want: new URLSearchParams(location.search).get("vision") };
  game = new Game({ scene, sceneFile, world, physics, camera, keys, chat, notices, dialogueUi, vision });
  const g = game;
  // Compile every shader before joining (the world, an avatar, a name tag): on a slow GPU a
  // first frame can block the page for seconds, and a page that stalls right after joining
  // cannot answer the server's pings and gets dropped.
  const warmup = new Avatar(scene, "warmup", npcLook("guard"), { name: "warm", role: "up" }, world.palette, world.shadows);
  warmup.setPose(spawn.position, [0, 0, 0, 1]);
  await scene.whenReadyAsync(true);
  scene.render();
  warmup.dispose();
  g.startTicking();
  const resolution = new AdaptiveResolution(engine);
  engine.runRenderLoop(() => {
    resolution.update();
    g.frame();
    scene.render();
  });
  window.addEventListener("resize", () => engine.resize());

  const connection = new Connection({
    endpoint: serverEndpoint(),
    roomName: ROOM,
    joinOptions: { name },
    rootSchema: WorldState,
    onState: (s, detail) => {
      status.set(s, detail);
      g.online = s === "connected";
    },
    onRoom: (room, info) => g.attach(room, info.fresh),
  });
  window.addEventListener("pagehide", () => void connection.closeAsync());
  if (sceneName !== null) void checkSceneMatchesAsync(sceneFile.name, notices);
  await connection.startAsync();
}

/**
 * The page draws the scene named in the URL; the server may run another.
 * Its /healthz says which (by the scene's `name`): warn instead of silently drawing the wrong world.
 */
async function checkSceneMatchesAsync(drawn: string, notices: Notices): Promise<void> {
  try {
    const res = await fetch(`${dataBase()}/healthz`);
    const running = res.ok ? ((await res.json()) as { scene?: unknown }).scene : undefined;
    if (typeof running === "string" && running !== drawn) {
      notices.show(`The server runs the scene "${running}" but this page shows "${drawn}": open it with ?scene=<file name>.`, 20_000);
    }
  } catch {
    // No health endpoint: nothing to compare with.
  }
}

async function loadSceneAsync(name: string | null) {
  const url = name === null ? `${dataBase()}/scene.json` : `${dataBase()}/scenes/${encodeURIComponent(name)}.json`;
  const res = await fetch(url);
  const label = name === null ? "the server's scene" : `the scene "${name}"`;
  if (!res.ok) throw new Error(`Could not load ${label} from ${url}: HTTP ${res.status}`);
  return parseScene(await res.json(), name === null ? "scene.json" : `scenes/${name}.json`);
}

function addHelp(ui: HTMLElement): void {
  const help = document.createElement("div");
  help.id = "help";
  help.innerHTML = [
    "<kbd>W</kbd><kbd>A</kbd><kbd>S</kbd><kbd>D</kbd> walk · <kbd>Shift</kbd> run · <kbd>Space</kbd> jump",
    "drag or <kbd>←</kbd><kbd>→</kbd> look around · wheel zoom",
    "<kbd>Enter</kbd> talk · <kbd>Esc</kbd> leave chat",
  ].join("<br>");
  ui.append(help);
}

mainAsync().catch((err: unknown) => {
  console.error(err);
  const box = document.createElement("div");
  box.id = "fatal";
  box.textContent = `Kith could not start.\n\n${err instanceof Error ? err.message : String(err)}`;
  document.getElementById("ui")?.append(box);
});
