import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { LineClient } from "../support/client.ts";
import { startRelay } from "../support/server.ts";

/** The terminals of README's netcat session: what each user types and reads, in order. */
function transcripts(): string[][] {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(
    readme.indexOf("## A netcat session"),
    readme.indexOf("## The web page"),
  );
  return [...section.matchAll(/```\n\$ nc [^\n]+\n([\s\S]*?)```/g)].map((m) =>
    (m[1] as string).trimEnd().split("\n"),
  );
}

const isOutput = (line: string) => /^[[*!]/.test(line);

/** A printed line with its clock, as a pattern that accepts any time. */
function expected(line: string): RegExp {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped.replace(/\\\[\d\d:\d\d:\d\d\\\]/, "\\[\\d\\d:\\d\\d:\\d\\d\\]")}$`);
}

test("README's netcat session works as printed", async () => {
  const sessions = transcripts();
  expect(sessions).toHaveLength(2);
  const relay = await startRelay();
  const terminals = await Promise.all(sessions.map(() => LineClient.open(relay.tcpPort as number)));
  const at = sessions.map(() => 0);
  // Each terminal goes as far as it can: it types its lines and reads what it should see;
  // when what it should see depends on the other terminal, the other one takes its turn.
  for (let stalled = 0; stalled < 20 && at.some((n, i) => n < (sessions[i] as string[]).length); ) {
    let progressed = false;
    for (const [i, lines] of sessions.entries()) {
      const term = terminals[i] as LineClient;
      while ((at[i] as number) < lines.length) {
        const line = lines[at[i] as number] as string;
        if (!isOutput(line)) {
          term.send(line);
        } else {
          const got = await term.line(300).catch(() => null);
          if (got === null) break;
          expect(got).toMatch(expected(line));
        }
        at[i] = (at[i] as number) + 1;
        progressed = true;
      }
    }
    stalled = progressed ? 0 : stalled + 1;
  }
  expect(at).toEqual(sessions.map((s) => s.length));
  for (const t of terminals) t.close();
});
