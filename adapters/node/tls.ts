import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { RelayConfig } from "../../src/host/mod.ts";

/** A certificate chain and its private key, as PEM text: what node:tls and node:https take. */
export interface TlsPem {
  cert: string;
  key: string;
}

/**
 * How long a TLS client has to finish its handshake before its socket is dropped: a
 * handshake needs no person, and a socket that never starts one holds a file descriptor.
 */
export const HANDSHAKE_MS = 10_000;

/**
 * Reads `RELAY_TLS_CERT` and `RELAY_TLS_KEY` (docs/protocol.md §13) and checks that
 * node:tls can serve with them; null when TLS is off. Throws an error whose message names
 * the variable at fault.
 *
 * @example
 * const tls = readTls(config.tls); // { cert: "-----BEGIN CERTIFICATE-----…", key: "…" }
 * await listenTcp(host, config.host, config.tcpPort, tls);
 */
export function readTls(files: RelayConfig["tls"]): TlsPem | null {
  if (files === null) return null;
  const cert = readPem(
    "RELAY_TLS_CERT",
    files.certFile,
    /-----BEGIN CERTIFICATE-----/,
    "certificate",
  );
  const key = readPem(
    "RELAY_TLS_KEY",
    files.keyFile,
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    "private key",
  );
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new Error(
      `RELAY_TLS_CERT (${files.certFile}) and RELAY_TLS_KEY (${files.keyFile}) cannot serve ` +
        `TLS together: ${e instanceof Error ? e.message : e} (is the key the certificate's?)`,
    );
  }
  return { cert, key };
}

function readPem(variable: string, path: string, marker: RegExp, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${variable}: cannot read ${path}: ${e instanceof Error ? e.message : e}`);
  }
  if (!marker.test(text))
    throw new Error(`${variable}: ${path} holds no ${what} in PEM (-----BEGIN ...-----)`);
  return text;
}
