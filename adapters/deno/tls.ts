import type { RelayConfig } from "../../src/host/mod.ts";

/** A certificate chain and its private key, as PEM text: what Deno.listenTls and Deno.serve take. */
export interface TlsPem {
  cert: string;
  key: string;
}

/**
 * How long a TLS client has to finish its handshake before its connection is dropped: a
 * handshake needs no person, and a connection that never starts one holds a descriptor.
 */
export const HANDSHAKE_MS = 10_000;

/**
 * Reads `RELAY_TLS_CERT` and `RELAY_TLS_KEY` (docs/protocol.md §13); null when TLS is off.
 * Throws an error whose message names the variable at fault. Whether the key is the
 * certificate's is checked when the first listener opens (see {@link tlsFailure}).
 *
 * @example
 * const tls = readTls(config.tls); // { cert: "-----BEGIN CERTIFICATE-----…", key: "…" }
 * listenTcp(host, config.host, config.tcpPort, tls);
 */
export function readTls(files: RelayConfig["tls"]): TlsPem | null {
  if (files === null) return null;
  return {
    cert: readPem("RELAY_TLS_CERT", files.certFile, /-----BEGIN CERTIFICATE-----/, "certificate"),
    key: readPem(
      "RELAY_TLS_KEY",
      files.keyFile,
      /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
      "private key",
    ),
  };
}

function readPem(variable: string, path: string, marker: RegExp, what: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    // Deno's own permissions: `deno task start` may read ./data and nothing else.
    const hint =
      e instanceof Deno.errors.NotCapable
        ? " (deno task start reads only ./data: keep the PEM files there, or run deno with --allow-read for them)"
        : "";
    throw new Error(`${variable}: cannot read ${path}: ${why}${hint}`);
  }
  if (!marker.test(text)) {
    throw new Error(`${variable}: ${path} holds no ${what} in PEM (-----BEGIN ...-----)`);
  }
  return text;
}

/**
 * The error to stop the start with when Deno cannot serve TLS with the certificate and key
 * (a key that is not the certificate's, most often).
 */
export function tlsFailure(e: unknown): Error {
  return new Error(
    `RELAY_TLS_CERT and RELAY_TLS_KEY cannot serve TLS together: ${e instanceof Error ? e.message : e} (is the key the certificate's?)`,
  );
}
