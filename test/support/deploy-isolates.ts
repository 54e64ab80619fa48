// Runs the edge entry as several isolates (Workers) of one Deno process, sharing one KV file
// and their BroadcastChannel, as a Deno Deploy deployment runs its isolates. Each isolate
// prints its own `http listening on` line. A line `stop N` on stdin ends isolate N at once,
// as a crash would.
// They start one after another, so that their `http listening on` lines come in the order of
// their numbers (a test that stops isolate N must know which port was N's).
const count = Number(Deno.args[0] ?? "2");
const isolates: Worker[] = [];
for (let i = 0; i < count; i++) {
  const worker = new Worker(new URL("./deploy-isolate.ts", import.meta.url), { type: "module" });
  await new Promise((resolve) => worker.addEventListener("message", resolve, { once: true }));
  isolates.push(worker);
}
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buffered = "";
for await (const chunk of lines) {
  buffered += chunk;
  const parts = buffered.split("\n");
  buffered = parts.pop() ?? "";
  for (const line of parts) {
    const m = /^stop (\d+)$/.exec(line.trim());
    if (m) isolates[Number(m[1])]?.terminate();
  }
}
