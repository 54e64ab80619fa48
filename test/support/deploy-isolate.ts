/// <reference lib="deno.worker" />
// One isolate of the edge entry, run as a Worker by deploy-isolates.ts.
import { startDeploy } from "../../adapters/deploy/main.ts";
import { parseConfig } from "../../src/host/mod.ts";

const parsed = parseConfig(Deno.env.toObject());
if (!parsed.ok) throw new Error(parsed.errors.join("; "));
await startDeploy(parsed.config);
// Listening (its line is printed): the next isolate may start.
self.postMessage("listening");
