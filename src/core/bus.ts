import type { ChatMessage } from "./types.ts";

/**
 * What the nodes of one cluster tell one another. Every event names the node that sent it;
 * names are as shown (NFC, as first written) and receivers derive keys from them.
 */
export type BusEvent =
  /** A node came up, or met a node it did not know: it asks for that node's `state`. */
  | { kind: "hello"; node: string }
  /** Everything a node holds: its users online and the rooms they are in. */
  | { kind: "state"; node: string; users: string[]; rooms: { room: string; members: string[] }[] }
  /**
   * A user came online on `node`, back in `rooms`; `quiet` when the same user moved there
   * (a takeover).
   */
  | { kind: "online"; node: string; name: string; quiet: boolean; rooms?: string[] }
  /** A user left `node`; `quiet` when nobody should be told (taken over, or shutdown). */
  | { kind: "offline"; node: string; name: string; quiet: boolean }
  /** A user joined a room (for good, until they leave it). */
  | { kind: "joined"; node: string; room: string; name: string }
  /** A user left a room. */
  | { kind: "left"; node: string; room: string; name: string }
  /**
   * A chat message for the receiver's users: to one user (`message.to` names them), to a
   * room's members, or to everyone (`scope`).
   */
  | {
      kind: "message";
      node: string;
      scope: "user" | "room" | "all";
      message: ChatMessage;
      /**
       * Nodes that must not take this copy: they missed earlier messages of this node, and
       * get this one behind those, sent to them alone once they are heard again.
       */
      skip?: string[];
    }
  | { kind: "announce"; node: string; text: string; ts: string }
  | { kind: "kick"; node: string; name: string }
  /** The node is shutting down: its users go offline. */
  | { kind: "down"; node: string };

/** A user online on another node, as this node knows them. */
export interface RemoteUser {
  name: string;
  node: string;
}
