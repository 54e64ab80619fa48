// The chat page's document. It holds no script and no style of its own: both are files
// beside it (/app.js, /app.css), so that its Content-Security-Policy can allow only 'self'.

/**
 * The chat page served at `/`: log in, then conversations (rooms, people, everyone) in a
 * sidebar, one timeline each, who is online, and a message field that also takes the
 * text-mode commands. Its script (`/app.js`, src/http/page/app/) does the rest.
 */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relay</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<a class="skip" href="#text">Skip to the message field</a>
<noscript><p class="noscript">This chat page needs JavaScript. Without it, <code>nc</code> or <code>relay chat</code> talk to the same server.</p></noscript>
<header>
  <h1>relay</h1>
  <span id="me"></span>
  <span id="status" role="status">not connected</span>
  <button id="resume" type="button" hidden>Connect again</button>
  <label class="toggle" hidden><input id="notify" type="checkbox"> Notify me<span class="wide-only"> of private messages</span></label>
  <button id="logout" class="quiet" type="button" hidden>Log out</button>
</header>
<form id="login" autocomplete="on" hidden>
  <h2>Join the chat</h2>
  <label for="name">Your name</label>
  <input id="name" name="username" maxlength="32" required autocomplete="username">
  <label for="password">Password (optional)</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  <p>A password protects your name: from then on, only you can use it. This page keeps a session, never the password.</p>
  <button id="login-button" type="submit">Log in</button>
  <div id="login-error" class="error" role="alert"></div>
</form>
<main id="app" class="list" hidden>
  <nav id="sidebar" aria-label="Conversations">
    <h2 id="rooms-heading">Rooms</h2>
    <ul id="rooms" aria-labelledby="rooms-heading"></ul>
    <form id="join">
      <input id="room" placeholder="#room" aria-label="Room to join" autocomplete="off">
      <button type="submit">Join</button>
    </form>
    <h2 id="people-heading">People</h2>
    <ul id="people" aria-labelledby="people-heading"></ul>
  </nav>
  <section id="chat" aria-labelledby="title">
    <div id="chat-head">
      <button id="back" class="quiet" type="button" aria-label="Conversations">‹ <span id="unread-total" class="badge" hidden></span></button>
      <h2 id="title">relay</h2>
      <span id="subtitle"></span>
      <button id="leave" class="quiet" type="button" hidden>Leave room</button>
    </div>
    <div id="timeline" tabindex="0" role="region" aria-label="Messages"></div>
    <div id="announcer" class="visually-hidden" aria-live="polite"></div>
    <div id="notice" role="status" hidden></div>
    <form id="say">
      <input id="text" autocomplete="off" aria-label="Message" enterkeyhint="send">
      <button type="submit">Send</button>
    </form>
  </section>
  <aside id="members" aria-labelledby="members-title" hidden>
    <h2 id="members-title">Online</h2>
    <ul id="members-list"></ul>
    <button id="members-more" class="quiet" type="button" hidden>Show more</button>
    <p id="members-rest" hidden></p>
  </aside>
</main>
</body>
</html>
`;

/** The page's icon, served as /favicon.svg. */
export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f6fde"/><path d="M8 10h16v9H14l-4 4v-4H8z" fill="#fff"/></svg>
`;
