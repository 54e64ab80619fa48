import type { ServerMessage } from "../core/mod.ts";
import { encodeJson, encodeText } from "../protocol/mod.ts";

/** A server message, encoded at most once per encoding however many receive it. */
export class Encoded {
  readonly #msg: ServerMessage;
  #json: string | undefined;
  #text: string | null | undefined;
  #jsonLine: Uint8Array | undefined;
  #textLine: Uint8Array | null | undefined;
  #jsonFrame: Uint8Array | undefined;
  #textFrame: Uint8Array | null | undefined;

  constructor(msg: ServerMessage) {
    this.#msg = msg;
  }

  /** The JSON form, without a line ending. */
  json(): string {
    if (this.#json === undefined) this.#json = encodeJson(this.#msg);
    return this.#json;
  }

  /** The text form, or null when there is nothing to print. */
  text(): string | null {
    if (this.#text === undefined) this.#text = encodeText(this.#msg);
    return this.#text;
  }

  /** The JSON form as a UTF-8 line; the same bytes go to every recipient. */
  jsonLine(): Uint8Array {
    if (this.#jsonLine === undefined) this.#jsonLine = utf8.encode(`${this.json()}\n`);
    return this.#jsonLine;
  }

  /** The JSON form's UTF-8 bytes without the line ending: one WebSocket frame for all. */
  jsonFrame(): Uint8Array {
    if (this.#jsonFrame === undefined) {
      const line = this.jsonLine();
      this.#jsonFrame = line.subarray(0, line.length - 1);
    }
    return this.#jsonFrame;
  }

  /** The text form's UTF-8 bytes without the last line ending, or null (see `textLine`). */
  textFrame(): Uint8Array | null {
    if (this.#textFrame === undefined) {
      const line = this.textLine();
      this.#textFrame = line === null ? null : line.subarray(0, line.length - 1);
    }
    return this.#textFrame;
  }

  /** The text form with its line ending, or null when there is nothing to print. */
  textLines(): string | null {
    const text = this.text();
    return text === null ? null : `${text}\n`;
  }

  /** The text form as UTF-8 lines, or null when there is nothing to print. */
  textLine(): Uint8Array | null {
    if (this.#textLine === undefined) {
      const text = this.text();
      this.#textLine = text === null ? null : utf8.encode(`${text}\n`);
    }
    return this.#textLine;
  }
}

const utf8 = new TextEncoder();
