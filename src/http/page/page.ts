// The chat page: one document, no build step; its style and script are beside this file.
import { PAGE_SCRIPT } from "./script.ts";
import { PAGE_STYLE } from "./style.ts";

/**
 * The chat page served at `/`: log in, talk privately, in rooms and to everyone. It keeps
 * its session secret, the newest message id seen and the last lines shown in localStorage,
 * so a reload or a restarted server loses nothing (docs/protocol.md §11).
 */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relay</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header><h1>relay</h1><span id="me"></span><span id="status">not connected</span><button id="logout" type="button" hidden>Log out</button></header>
<form id="login" autocomplete="on">
  <h2>Join the chat</h2>
  <input id="name" name="username" placeholder="Your name" maxlength="32" required autocomplete="username">
  <input id="password" name="password" type="password" placeholder="Password (optional)" autocomplete="current-password">
  <p>A password protects your name: from then on, only you can use it.</p>
  <button type="submit">Log in</button>
  <div id="login-error" class="error" role="alert"></div>
</form>
<main id="app" hidden>
  <aside>
    <h2>Online</h2><ul id="users"></ul>
    <h2>Rooms</h2><ul id="rooms"></ul>
    <form id="join"><input id="room" placeholder="#room" aria-label="Room to join"><button>Join</button></form>
  </aside>
  <section id="chat">
    <div id="log" aria-live="polite"></div>
    <form id="say"><span id="target"></span><input id="text" autocomplete="off" aria-label="Message" placeholder="Pick someone or a room, or type /help"><button>Send</button></form>
  </section>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
