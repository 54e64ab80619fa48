// An echo bot: it sits in a room and answers each message there, and each private one.
//   node --import tsx examples/echo-bot.ts ws://localhost:8080/ws '#echo'
//   deno run --allow-net examples/echo-bot.ts ws://localhost:8080/ws '#echo'
import { RelayClient } from "relay/client";

const [url = "ws://localhost:8080/ws", room = "#echo"] = process.argv.slice(2);
// Browsers, Deno and Node 22+ have a WebSocket; on Node 20 take the ws package's.
const WebSocket = globalThis.WebSocket ?? (await import("ws")).default;

const bot = new RelayClient({ url, WebSocket, name: "echo" });
bot.on("message", (m) => {
  // Skip broadcasts, and own messages a resume may bring back.
  if (m.to === "*" || m.from === bot.name) return;
  const to = m.to.startsWith("#") ? m.to : m.from;
  bot.request({ type: "msg", to, text: `${m.from} said: ${m.text}` }).catch(console.error);
});
bot.on("close", ({ reconnect, error }) => {
  if (!reconnect) process.exit(error ? 1 : 0);
});
await bot.connect();
await bot.request({ type: "join", room });
console.log(`echo is in ${room}`);
process.on("SIGTERM", () => void bot.close({ forget: true }));
