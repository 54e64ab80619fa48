import type { UpgradeWebSocket, WSContext, WSEvents } from "hono/ws";
import type { Connection, Host, Link } from "../host/mod.ts";

/**
 * Writes text frames, given as UTF-8 bytes, on a runtime's WebSocket (`raw`) in one write;
 * false when it cannot, and the frames are then sent one by one.
 */
export type FrameWriter = (raw: unknown, frames: Uint8Array[]) => boolean;

/**
 * Hands each message of a runtime's WebSocket (`raw`) to `receive` as the bytes that came,
 * before the runtime decodes them (so that text which is not UTF-8 can be refused without
 * closing the socket); false when it cannot.
 */
export type MessageReader = (
  raw: unknown,
  receive: (data: Uint8Array, binary: boolean) => void,
) => boolean;

/** What a runtime can do on its WebSockets beyond what Hono's context offers. */
export interface SocketHooks {
  frameWriter?: FrameWriter;
  messageReader?: MessageReader;
}

/**
 * The WebSocket events that carry the relay protocol: a text message is a frame, a binary
 * one gets `bad_frame`; replies go back one message each. `remote` is the peer's address.
 */
export function relaySocket(host: Host, remote: string, hooks: SocketHooks = {}): WSEvents {
  let conn: Connection | null = null;
  // Whether the runtime's reader has the messages; Hono's reports of them are then ignored.
  // The reader starts in onOpen, before the socket's first bytes are read (a message sent in
  // the upgrade request's own packet included: a test holds it).
  let reading = false;
  const receive = (data: Uint8Array, binary: boolean) => {
    if (binary) conn?.receiveBinary();
    else conn?.receiveTextBytes(data);
  };
  return {
    onOpen(_event, ws) {
      conn = host.connect(wsLink(ws, remote, hooks.frameWriter));
      reading = conn !== null && (hooks.messageReader?.(ws.raw, receive) ?? false);
    },
    onMessage(event, _ws) {
      if (reading) return;
      if (typeof event.data === "string") conn?.receiveText(event.data);
      else conn?.receiveBinary();
    },
    onClose() {
      conn?.closed();
      conn = null;
    },
  };
}

function wsLink(ws: WSContext, remote: string, frameWriter?: FrameWriter): Link {
  return {
    ...(frameWriter && {
      writeFrames: (frames: Uint8Array[]) => {
        if (ws.readyState !== 1 || frameWriter(ws.raw, frames)) return;
        for (const frame of frames) ws.send(utf8.decode(frame));
      },
    }),
    transport: "ws",
    remote,
    framing: "message",
    write: (data) => {
      // Frames reach here as text; only a byte stream's lines come as bytes.
      if (ws.readyState === 1) ws.send(typeof data === "string" ? data : utf8.decode(data));
    },
    // Hono's context does not say how much waits unsent; the runtime's socket does.
    unsent: () => (ws.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0,
    close: () => ws.close(1000, "bye"),
  };
}

const utf8 = new TextDecoder();

/** The runtime's WebSocket upgrade, as hono/deno or @hono/node-ws provide it. */
export type Upgrade = UpgradeWebSocket<unknown>;
