/**
 * A new session secret: 32 random bytes, base64url (docs/protocol.md §11 asks for at least 128
 * bits).
 *
 * @example
 * newSecret().length; // 43
 */
export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * What the store keeps of a session secret: its SHA-256, hex. The secret has 256 random
 * bits, so a plain hash is as good as a slow one.
 *
 * @example
 * await secretHash("abc"); // "ba7816bf..."
 */
export async function secretHash(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  // Joined at once, not grown with +=: a string built piece by piece stays in pieces, and
  // the store keeps one per session.
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
