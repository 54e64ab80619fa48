// A chat server on Socket.IO 4, as a Node developer would write one with it: the baseline of
// the bench's WebSocket tables. WebSocket transport only, one Socket.IO room per chat room,
// `socket.to(room).emit(...)` for a room message, and private messages by a map from names
// to socket ids. Loopback only.
//
//   node --import tsx bench/socketio-server.ts [port]   (0 or none: a free port)
//
// Events, as bench/socketio-client.ts speaks them:
//   client -> server  "login" (name, room | null, ack)   ack({ ok: true }) once logged in
//                     "msg" (to, text)                    to: "#room" or a name
//   server -> client  "message" (from, to, text)
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] ?? 0);
const http = createServer();
const io = new Server(http, { transports: ["websocket"], serveClient: false });
/** Socket ids by user name. */
const ids = new Map<string, string>();

io.on("connection", (socket) => {
  let name: string | null = null;
  socket.on("login", (who: string, room: string | null, ack: (reply: unknown) => void) => {
    if (typeof who !== "string" || ids.has(who)) return ack({ ok: false, error: "name_taken" });
    name = who;
    ids.set(who, socket.id);
    if (typeof room === "string") socket.join(room);
    ack({ ok: true });
  });
  socket.on("msg", (to: string, text: string) => {
    if (name === null || typeof to !== "string" || typeof text !== "string") return;
    if (to.startsWith("#")) socket.to(to).emit("message", name, to, text);
    else {
      const id = ids.get(to);
      if (id) io.to(id).emit("message", name, to, text);
    }
  });
  socket.on("disconnect", () => {
    if (name !== null && ids.get(name) === socket.id) ids.delete(name);
  });
});

http.listen(port, "127.0.0.1", () => {
  const address = http.address();
  if (address && typeof address === "object")
    console.log(`socketio listening on 127.0.0.1:${address.port}`);
});
