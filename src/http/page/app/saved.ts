// What the page keeps in localStorage across reloads: the session secret (never the
// password), the newest message id it has seen, where it was, and the last messages of each
// conversation. `since` and the messages are written together, so they always agree: a
// message that was not kept comes back in the next login's replay, and a kept one does not.
import type { ChatMessage } from "../../../client/mod.ts";

/** Who is logged in on this page, and where they were. */
export interface SavedState {
  name: string;
  session?: string;
  since?: string;
  /** The target of the open conversation. */
  current?: string;
  /** Desktop notifications for private messages, when the tab is hidden. */
  notify?: boolean;
}

/** One conversation as kept. */
export interface SavedConversation {
  target: string;
  unread: number;
  member?: boolean;
  messages: ChatMessage[];
}

const STATE_KEY = "relay.state";
const CONVERSATIONS_KEY = "relay.conversations";
/** What an older page kept; read by none now. */
const OLD_KEYS = ["relay.lines"];

function read(key: string): unknown {
  try {
    const text = localStorage.getItem(key);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Writes; false when the storage is full or turned off (the page then forgets more). */
function write(key: string, value: unknown): boolean {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

const isString = (v: unknown): v is string => typeof v === "string";
const optionalString = (v: unknown): string | undefined =>
  isString(v) && v !== "" ? v : undefined;

function isMessage(v: unknown): v is ChatMessage {
  const m = v as Partial<ChatMessage> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    isString(m.id) &&
    isString(m.from) &&
    isString(m.to) &&
    isString(m.text) &&
    isString(m.ts)
  );
}

/**
 * The state kept by an earlier visit, or null. Whatever does not have the expected shape
 * (written by another version of the page, or by hand) is left out.
 */
export function loadState(): SavedState | null {
  try {
    for (const key of OLD_KEYS) localStorage.removeItem(key);
  } catch {
    // Storage turned off: nothing was kept either.
  }
  const raw = read(STATE_KEY) as Record<string, unknown> | null;
  if (raw === null || typeof raw !== "object" || !isString(raw.name) || raw.name === "")
    return null;
  const state: SavedState = { name: raw.name };
  const session = optionalString(raw.session);
  const since = optionalString(raw.since);
  const current = optionalString(raw.current);
  if (session) state.session = session;
  if (since) state.since = since;
  if (current) state.current = current;
  if (raw.notify === true) state.notify = true;
  return state;
}

/** The conversations kept by an earlier visit. */
export function loadConversations(): SavedConversation[] {
  const raw = read(CONVERSATIONS_KEY);
  if (!Array.isArray(raw)) return [];
  const kept: SavedConversation[] = [];
  for (const c of raw as Record<string, unknown>[]) {
    if (typeof c !== "object" || c === null || !isString(c.target) || !Array.isArray(c.messages)) {
      continue;
    }
    kept.push({
      target: c.target,
      unread: typeof c.unread === "number" && c.unread > 0 ? Math.floor(c.unread) : 0,
      member: c.member === true,
      messages: c.messages.filter(isMessage).map((m) => ({ ...m, type: "message" as const })),
    });
  }
  return kept;
}

/**
 * Keeps the state and the conversations, in two writes made together. When the storage is
 * full, fewer messages per conversation are kept.
 */
export function save(state: SavedState, conversations: SavedConversation[]): void {
  for (let keep = 100; keep >= 5; keep = Math.floor(keep / 2)) {
    const trimmed = conversations.map((c) => ({ ...c, messages: c.messages.slice(-keep) }));
    if (write(CONVERSATIONS_KEY, trimmed)) break;
  }
  write(STATE_KEY, state);
}

/** Forgets everything the page kept (logging out). */
export function forgetAll(): void {
  try {
    localStorage.removeItem(STATE_KEY);
    localStorage.removeItem(CONVERSATIONS_KEY);
  } catch {
    // Storage turned off: there is nothing to forget.
  }
}

/** Whether a `storage` event (another tab) says that this page's login was forgotten. */
export function forgottenElsewhere(event: StorageEvent): boolean {
  return (event.key === STATE_KEY || event.key === null) && event.newValue === null;
}
