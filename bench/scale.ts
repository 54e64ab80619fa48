// npm run bench -- --only scale: many idle TCP clients on one node, then some of them chatting.
// (Being written: see issue 14.)

/** Runs the scale bench and prints its table. */
export async function scaleBench(_opts: { quick: boolean }): Promise<void> {
  console.log("\nscale: not built yet");
}
