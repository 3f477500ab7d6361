import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * AES-256-GCM for secrets the platform must read back (webhook signing secrets, later: connection
 * credentials, lead contact info). Ciphertext format: "v1:<iv b64>:<tag b64>:<data b64>".
 */
export interface Encryptor {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
  /**
   * A blind index: HMAC-SHA256 (hex) of an already normalised value under a key derived from the encryption
   * key, so encrypted contact details can be looked up by equality (inbound SMS by sender) without decrypting.
   */
  blindIndex(normalisedValue: string): string;
}

export function createEncryptor(key: Buffer): Encryptor {
  if (key.length !== 32) throw new Error('Encryption key must be 32 bytes (base64-encode 32 random bytes)');
  // A separate key for the index, so an index value says nothing about the encryption key and vice versa.
  const indexKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'p11-console blind index v1', 32));
  return {
    blindIndex(normalisedValue) {
      return createHmac('sha256', indexKey).update(normalisedValue, 'utf8').digest('hex');
    },
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
    },
    decrypt(ciphertext) {
      const [version, iv, tag, data] = ciphertext.split(':');
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('Unrecognised ciphertext format');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}

/** SHA-256 hex digest, for looking up high-entropy tokens (session tokens, API keys) without storing them. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** URL-safe random token with `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
