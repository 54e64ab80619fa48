import { chatCommand } from "../../src/cli/chat/main.ts";
import { main as serve } from "./main.ts";

const USAGE = `usage: relay serve            run the relay (configured by RELAY_* variables)
       relay chat [URL] ...   chat in this terminal (relay chat --help)`;

const [command, ...rest] = process.argv.slice(2);
if (command === "serve") {
  await serve();
} else if (command === "chat") {
  process.exit(await chatCommand(rest));
} else {
  console.error(USAGE);
  process.exit(command === undefined || command === "--help" ? 0 : 2);
}
