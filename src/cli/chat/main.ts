import process from "node:process";
import { parseArgs } from "node:util";
import { runChat } from "./client.ts";

const USAGE = `usage: relay chat [--name NAME] [--password PW | --ask-password] [URL]

URL is tcp://HOST:PORT (default tcp://127.0.0.1:7070) or ws://HOST:PORT/ws.
Colours are off when stdout is not a terminal or NO_COLOR is set.`;

/** `relay chat`: the terminal client. Returns the exit code. */
export async function chatCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    console.error(`relay chat: ${e instanceof Error ? e.message : e}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  const url = parsed.positionals[0] ?? "tcp://127.0.0.1:7070";
  if (!/^(tcp|wss?):\/\//.test(url)) {
    console.error(`relay chat: not a tcp:// or ws:// URL: ${url}\n${USAGE}`);
    return 2;
  }
  return runChat({
    url,
    name: parsed.values.name,
    password: parsed.values.password,
    askPassword: parsed.values["ask-password"],
    input: process.stdin,
    output: process.stdout,
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  });
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string", short: "n" },
      password: { type: "string", short: "p" },
      "ask-password": { type: "boolean", short: "P" },
      help: { type: "boolean", short: "h" },
    },
  });
}

// Run directly (deno task chat): relay chat with the command line's arguments.
if ((import.meta as { main?: boolean }).main) {
  process.exit(await chatCommand(process.argv.slice(2)));
}
