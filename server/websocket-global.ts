// Colyseus 0.18 core checks `client.readyState !== WebSocket.OPEN` on reconnection, reading the
// global WebSocket that only Node 22+ defines; on Node 20 every reconnect fails with
// "WebSocket is not defined". Give it ws's class (the library the transport itself runs on).
import { WebSocket as NodeWebSocket } from "ws";

if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === "undefined") {
  (globalThis as { WebSocket?: unknown }).WebSocket = NodeWebSocket;
}
