// How the bench prints: Markdown tables and short figures.

/**
 * Prints a Markdown table under `title`, its columns as wide as their widest cell.
 *
 * @example
 * table("core alone", ["what", "per second"], [["room deliveries", "102M"]]);
 */
export function table(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(r));
}

/**
 * A count or rate in short: 950, 2.5k, 400k, 1.80M.
 *
 * @example
 * fmt(1_800_000); // "1.80M"
 */
export const fmt = (n: number): string =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(2)}M`
    : n >= 1e3
      ? `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`
      : `${Math.round(n)}`;

/**
 * Milliseconds with one decimal, or "-" for none.
 *
 * @example
 * ms(12.34); // "12.3 ms"
 */
export const ms = (n: number): string => (Number.isNaN(n) ? "-" : `${n.toFixed(1)} ms`);

/**
 * The median of some figures (the upper one of an even count).
 *
 * @example
 * median([3, 1, 2]); // 2
 */
export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
