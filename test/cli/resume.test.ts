import { describe, expect, test } from "vitest";
import { backoff, MAX_BACKOFF_MS, Resume } from "../../src/cli/chat/resume.ts";

describe("what the terminal client keeps to log in again", () => {
  test("the first login carries the password and no since", () => {
    expect(new Resume().login("ann", "pw")).toEqual({ type: "login", name: "ann", password: "pw" });
    expect(new Resume().login("ann", undefined)).toEqual({ type: "login", name: "ann" });
  });

  test("after a welcome, the session replaces the password and since is the newest id seen", () => {
    const resume = new Resume();
    resume.welcomed("secret");
    resume.saw("0b");
    resume.saw("0c");
    resume.saw("0a"); // older: a history page or an out-of-order id never moves since back
    resume.saw(undefined); // an ok without an id
    expect(resume.login("ann", "pw")).toEqual({
      type: "login",
      name: "ann",
      session: "secret",
      since: "0c",
    });
  });

  test("a refused session is forgotten: the next login uses the password, since stays", () => {
    const resume = new Resume();
    resume.welcomed("secret");
    resume.saw("0a");
    resume.forgetSession();
    expect(resume.hasSession).toBe(false);
    expect(resume.login("ann", "pw")).toEqual({
      type: "login",
      name: "ann",
      password: "pw",
      since: "0a",
    });
  });

  test("a welcome without a session (a v1 server) keeps the one there was", () => {
    const resume = new Resume();
    resume.welcomed("secret");
    resume.welcomed(undefined);
    expect(resume.login("ann", undefined).session).toBe("secret");
  });

  test("ids compare by code unit, as the relay sorts them", () => {
    const resume = new Resume();
    resume.saw("0mwt3j9qk0000");
    resume.saw("0mwt3j2a80000");
    expect(resume.since).toBe("0mwt3j9qk0000");
  });

  test("backoff doubles from half a second up to a ceiling", () => {
    expect([0, 1, 2, 3].map(backoff)).toEqual([500, 1000, 2000, 4000]);
    expect(backoff(20)).toBe(MAX_BACKOFF_MS);
  });
});
