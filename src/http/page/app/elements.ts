// The elements of the chat page (src/http/page/page.ts) that the script works with.
import { byId } from "./dom.ts";

/** The page's elements, found once. */
export interface Elements {
  login: HTMLFormElement;
  name: HTMLInputElement;
  password: HTMLInputElement;
  loginError: HTMLElement;
  loginButton: HTMLButtonElement;
  app: HTMLElement;
  me: HTMLElement;
  status: HTMLElement;
  resume: HTMLButtonElement;
  logout: HTMLButtonElement;
  notify: HTMLInputElement;
  back: HTMLButtonElement;
  unreadTotal: HTMLElement;
  rooms: HTMLElement;
  people: HTMLElement;
  join: HTMLFormElement;
  room: HTMLInputElement;
  title: HTMLElement;
  subtitle: HTMLElement;
  leave: HTMLButtonElement;
  timeline: HTMLElement;
  /** A live region that reads new messages of the open conversation to screen readers. */
  announcer: HTMLElement;
  notice: HTMLElement;
  say: HTMLFormElement;
  text: HTMLInputElement;
  members: HTMLElement;
  membersTitle: HTMLElement;
  membersList: HTMLElement;
  /** Asks for the next page of who is online (at the end of the list). */
  membersMore: HTMLButtonElement;
  /** Says how many more are online than the list shows, past its bound. */
  membersRest: HTMLElement;
}

/** Finds the page's elements; throws if one is missing (the page and script disagree). */
export function findElements(): Elements {
  return {
    login: byId("login"),
    name: byId("name"),
    password: byId("password"),
    loginError: byId("login-error"),
    loginButton: byId("login-button"),
    app: byId("app"),
    me: byId("me"),
    status: byId("status"),
    resume: byId("resume"),
    logout: byId("logout"),
    notify: byId("notify"),
    back: byId("back"),
    unreadTotal: byId("unread-total"),
    rooms: byId("rooms"),
    people: byId("people"),
    join: byId("join"),
    room: byId("room"),
    title: byId("title"),
    subtitle: byId("subtitle"),
    leave: byId("leave"),
    timeline: byId("timeline"),
    announcer: byId("announcer"),
    notice: byId("notice"),
    say: byId("say"),
    text: byId("text"),
    members: byId("members"),
    membersTitle: byId("members-title"),
    membersList: byId("members-list"),
    membersMore: byId("members-more"),
    membersRest: byId("members-rest"),
  };
}
