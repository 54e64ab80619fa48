// The chat page's script: bundled with src/client into src/http/page/script.ts
// (`npm run build:page`) and served as /app.js.
import { ChatApp } from "./chat.ts";
import { findElements } from "./elements.ts";

const app = new ChatApp(findElements());

// Alt+↑/↓ moves between conversations, with Shift to the next one with unread messages;
// Escape leaves the list of conversations on a phone-sized screen.
document.addEventListener("keydown", (e) => {
  if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
    e.preventDefault();
    app.step(e.key === "ArrowDown" ? 1 : -1, e.shiftKey);
  }
});

app.start();
