/**
 * The `relay/client` transport over TCP, for programs on Node (the terminal client's):
 * `tcpTransport("tcp://localhost:7070")`.
 * @module
 */
export { tcpTransport } from "../../src/cli/chat/transport.ts";
