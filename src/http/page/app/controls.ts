// What the page's own controls and the browser tell the page: the forms (log in, say, join),
// the buttons of the head, and the tab being hidden, shown, closed, or logged out elsewhere.
import type { Elements } from "./elements.ts";
import { forgottenElsewhere } from "./saved.ts";

/** What the controls ask of the page. */
export interface ControlEvents {
  /** The login form was sent (the name trimmed). */
  logIn(name: string, password: string): void;
  /** A line was sent from the message field (never a blank one; the field is emptied). */
  line(text: string): void;
  /** The join field was sent with a room's name (as typed, trimmed, never empty). */
  join(room: string): void;
  /** The leave button of the head. */
  leave(): void;
  logOut(): void;
  /** The button that offers to come back after a stop. */
  resume(): void;
  /** Back to the list of conversations (phone-sized screens). */
  back(): void;
  /** The tab is hidden or going away: keep what there is now. */
  hidden(): void;
  /** The tab shows again. */
  shown(): void;
  /** Another tab of this page logged out. */
  loggedOutElsewhere(): void;
}

/**
 * Listens to the page's controls and to the tab's life, and says what happened in the
 * page's words.
 *
 * @example
 * bindControls(findElements(), { logIn, line, join, leave, logOut, resume, back, hidden, shown, loggedOutElsewhere });
 */
export function bindControls(ui: Elements, on: ControlEvents): void {
  ui.login.addEventListener("submit", (e) => {
    e.preventDefault();
    on.logIn(ui.name.value.trim(), ui.password.value);
  });
  ui.say.addEventListener("submit", (e) => {
    e.preventDefault();
    const line = ui.text.value;
    if (line.trim() === "") return;
    ui.text.value = "";
    on.line(line);
  });
  ui.join.addEventListener("submit", (e) => {
    e.preventDefault();
    const room = ui.room.value.trim();
    if (room === "") return;
    ui.room.value = "";
    on.join(room);
  });
  ui.leave.addEventListener("click", () => on.leave());
  ui.logout.addEventListener("click", () => on.logOut());
  ui.resume.addEventListener("click", () => on.resume());
  ui.back.addEventListener("click", () => on.back());
  addEventListener("pagehide", () => on.hidden());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") on.hidden();
    else on.shown();
  });
  addEventListener("storage", (e) => {
    if (forgottenElsewhere(e)) on.loggedOutElsewhere();
  });
}
