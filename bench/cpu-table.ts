// CPU per delivery at fixed loads: what each server's own process spends (user and system
// time, from /proc) per million deliveries that reach the clients, at loads every contender
// sustains. Unlike a max rate, it does not stop at the load generator's ceiling.
import { fmt, median, ms, table } from "./table.ts";
import { farOff, type Measured, type Scenario, sustained, type Target, Trial } from "./trial.ts";

/** One load of a CPU table: a scenario at so many deliveries per second. */
export interface Load {
  scenario: Scenario;
  deliveries: number;
}

/** One contender at one load: medians of its measured runs. */
export interface CpuCell {
  load: Load;
  /** Whether the median run lost nothing and kept p99 under 100 ms. */
  sustained: boolean;
  /** CPU-ms per million deliveries received, median of the runs. */
  perMillion: number;
  p99: number;
  /** Share of the deliveries lost, median of the runs. */
  lostShare: number;
  /** Write and read system calls per delivery received, medians of the runs. */
  writes: number;
  reads: number;
}

/** A contender's row of a CPU table. */
export interface CpuRow {
  label: string;
  cells: CpuCell[];
}

/** How the runs go: N clients, S senders, the warm-up load, run length and repeats. */
export interface CpuShape {
  n: number;
  senders: number;
  warmup: number;
  durationMs: number;
  repeat: number;
  /** Told of every run (measured or warm-up), for `--verbose`. */
  onRun?: (label: string, load: Load, run: Measured) => void;
}

/**
 * Measures `target` at each of `loads` (one fresh server per scenario): after a warm-up
 * run at the load itself, `repeat` runs of `durationMs`, each with the server's CPU time
 * from the start of the load until the last delivery arrived.
 */
export async function cpuRow(target: Target, loads: Load[], shape: CpuShape): Promise<CpuRow> {
  // In the order of `loads`, whichever order the scenarios are measured in.
  const cells: CpuCell[] = new Array(loads.length);
  for (const scenario of ["fanout", "private"] as const) {
    const mine = loads.filter((l) => l.scenario === scenario);
    if (mine.length === 0) continue;
    const trial = new Trial(target, scenario, shape);
    try {
      for (const load of mine) {
        const run = async (durationMs: number) => {
          const measured = await trial.run(load.deliveries, durationMs);
          shape.onRun?.(target.label, load, measured);
          return measured;
        };
        // A load the warm-up run missed by far is not sustained: its repeats would only say so
        // again, at the highest cost.
        const warm = await run(1000);
        const missed = farOff(warm);
        const runs: Measured[] = missed ? [warm] : [];
        for (let i = 0; i < shape.repeat && !missed; i++) runs.push(await run(shape.durationMs));
        const p99 = median(runs.map((r) => r.p99));
        const lost = median(runs.map((r) => r.lost));
        cells[loads.indexOf(load)] = {
          load,
          sustained: !missed && sustained({ ...warm, lost, p99 }),
          perMillion: median(runs.map((r) => (r.received ? r.cpuMs / (r.received / 1e6) : 0))),
          writes: median(runs.map((r) => (r.received ? r.writes / r.received : 0))),
          reads: median(runs.map((r) => (r.received ? r.reads / r.received : 0))),
          p99,
          lostShare: median(runs.map((r) => r.lost / (r.lost + r.received || 1))),
        };
      }
    } finally {
      await trial.close();
    }
  }
  return { label: target.label, cells };
}

const heading = (l: Load) => `${l.scenario} ${fmt(l.deliveries)}/s`;

/**
 * Prints a CPU table: a column per load, each with its ratio to the `against` row. A cell
 * whose load was not sustained says how it failed instead of a figure.
 */
export function cpuTable(title: string, rows: CpuRow[], loads: Load[], against: string): void {
  const base = rows.find((r) => r.label === against);
  const short = against.replace(/ \(.*$/, "");
  table(
    title,
    ["server", ...loads.flatMap((l) => [heading(l), `vs ${short}`])],
    rows.map((r) => [
      r.label,
      ...loads.flatMap((_, i) => {
        const cell = r.cells[i];
        if (!cell) return ["-", "-"];
        if (!cell.sustained) {
          const how =
            cell.lostShare > 0
              ? `${(cell.lostShare * 100).toFixed(cell.lostShare < 0.01 ? 2 : 0)}% lost`
              : `p99 ${ms(cell.p99)}`;
          return [`not sustained (${how})`, "-"];
        }
        const ratio = ratioOf(cell, base?.cells[i]);
        return [`${Math.round(cell.perMillion)}`, ratio === null ? "-" : `${ratio.toFixed(2)}x`];
      }),
    ]),
  );
}

/**
 * Prints the system calls per delivery of the runs of a CPU table: writes and reads, where
 * much of each server's CPU goes on loopback (a load not sustained says so). Those /proc
 * counts (read and write calls) miss Deno's socket calls, which are send and recv.
 */
export function callsTable(title: string, rows: CpuRow[], loads: Load[]): void {
  table(
    title,
    ["server", ...loads.map(heading)],
    rows.map((r) => [
      r.label,
      ...loads.map((_, i) => {
        const cell = r.cells[i];
        if (!cell) return "-";
        if (!cell.sustained) return "not sustained";
        // /proc counts read(2) and write(2), not send(2) and recv(2), which Deno's sockets use:
        // what is left is a file or a pipe now and then.
        if (cell.writes + cell.reads < 0.01) return "not counted";
        return `${cell.writes.toFixed(2)} / ${cell.reads.toFixed(2)}`;
      }),
    ]),
  );
}

function ratioOf(cell: CpuCell | undefined, base: CpuCell | undefined): number | null {
  if (!cell?.sustained || !base?.sustained || !base.perMillion) return null;
  return cell.perMillion / base.perMillion;
}

/**
 * Prints one line: `row`'s CPU per delivery over `base`'s at each load (those of `loads`
 * only, when given), and whether all are within `limit` (a load `row` did not sustain
 * counts as not met).
 */
export function cpuVerdict(
  row: CpuRow | undefined,
  base: CpuRow | undefined,
  limit: number,
  loads?: Load[],
): void {
  if (!row || !base) return;
  const counted = row.cells
    .map((cell, i) => ({ cell, ratio: ratioOf(cell, base.cells[i]) }))
    .filter(({ cell }) => !loads || loads.includes(cell.load));
  const shown = counted.map(
    ({ cell, ratio }) => `${heading(cell.load)} ${ratio === null ? "-" : `${ratio.toFixed(2)}x`}`,
  );
  // A load the row did not sustain fails the target; one only the base did not sustain
  // leaves it open.
  const failed = counted.some(({ cell, ratio }) => !cell.sustained || (ratio ?? 0) > limit);
  const open = counted.some(({ ratio }) => ratio === null);
  const verdict = failed
    ? "NOT met"
    : open
      ? `not known: ${base.label} did not sustain all`
      : "met";
  console.log(
    `${row.label} / ${base.label}: ${shown.join(", ")} ` +
      `(target at most ${limit.toFixed(2)}x: ${verdict})`,
  );
}
