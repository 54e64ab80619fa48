import { execFileSync } from "node:child_process";

/** A program running in a terminal (a detached tmux session): keys in, the screen out. */
export class Terminal {
  static #count = 0;
  readonly name = `relay-term-${process.pid}-${Terminal.#count++}`;

  constructor(command: string, env: Record<string, string> = {}) {
    const vars = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    tmux("new-session", "-d", "-s", this.name, "-x", "160", "-y", "40", ...vars, command);
  }

  /** Types text as it is. */
  type(keys: string): void {
    tmux("send-keys", "-t", this.name, "-l", keys);
  }

  /** Presses a key by its tmux name (`Enter`, `C-c`). */
  press(key: string): void {
    tmux("send-keys", "-t", this.name, key);
  }

  /** Types a line and presses Enter. */
  line(text: string): void {
    this.type(text);
    this.press("Enter");
  }

  /** What the terminal shows now. */
  screen(): string {
    return tmux("capture-pane", "-p", "-J", "-t", this.name);
  }

  /** Waits until the screen matches `pattern`. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.screen())) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} on the screen:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    try {
      tmux("kill-session", "-t", this.name);
    } catch {
      // Already gone: the program exited.
    }
  }
}

function tmux(...args: string[]): string {
  return execFileSync("tmux", args, { encoding: "utf8" });
}
