// The simplest Node relay, as a baseline: what straightforward code does. The first line of a
// connection is its name; then "* text" goes to everyone else and "name text" to one user,
// each as "from text", with one write per recipient.
import { createServer, type Socket } from "node:net";

const users = new Map<string, Socket>();
const server = createServer((socket) => {
  let name = "";
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (data: string) => {
    const lines = (buffered + data).split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (!name) {
        name = line.trim();
        users.set(name, socket);
        socket.write("welcome\n");
        continue;
      }
      const space = line.indexOf(" ");
      const to = line.slice(0, space);
      const out = `${name} ${line.slice(space + 1)}\n`;
      if (to === "*") {
        for (const [other, s] of users) if (other !== name) s.write(out);
      } else {
        users.get(to)?.write(out);
      }
    }
  });
  socket.on("close", () => users.delete(name));
  socket.on("error", () => {});
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const address = server.address();
  console.log(
    `tcp listening on 127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
  );
});
