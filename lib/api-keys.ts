import { randomToken, sha256Hex } from './crypto';

export const API_KEY_PREFIX = 'p11_';

export interface GeneratedApiKey {
  /** Shown to the caller once, never stored. */
  key: string;
  /** Stored and displayed so people can tell keys apart. */
  prefix: string;
  /** Stored; the key is 256 bits of randomness, so a fast hash is enough for lookup. */
  hash: string;
}

export function generateApiKey(): GeneratedApiKey {
  const key = `${API_KEY_PREFIX}${randomToken(32)}`;
  return { key, prefix: key.slice(0, API_KEY_PREFIX.length + 8), hash: sha256Hex(key) };
}

export function hashApiKey(key: string): string {
  return sha256Hex(key);
}
