#!/usr/bin/env node
// The `relay` command: TypeScript sources run through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../adapters/node/cli.ts");
