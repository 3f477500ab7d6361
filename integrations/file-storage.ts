/**
 * Where uploaded files live between the API (which stores them) and the ingestion worker (which reads them).
 * One small interface so an object store can replace the local directory without touching callers; keys are
 * `/`-separated relative paths and never reach outside the root.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FileStorage {
  /** Stores the bytes under `key`, replacing what was there. A reader never sees a half-written file. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes under `key`; throws FileNotFoundError when there are none. */
  get(key: string): Promise<Uint8Array>;
  /** Removes `key`; removing a missing key is fine (retries delete twice). */
  delete(key: string): Promise<void>;
  /** Removes every key that starts with `prefix` (e.g. all versions of a document). */
  deletePrefix(prefix: string): Promise<void>;
}

export class FileNotFoundError extends Error {
  override readonly name = 'FileNotFoundError';
  constructor(readonly key: string) {
    super(`No stored file under ${key}`);
  }
}

export class InvalidStorageKeyError extends Error {
  override readonly name = 'InvalidStorageKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Invalid storage key ${JSON.stringify(key)}: ${reason}`);
  }
}

/** Where a document version's file is kept. */
export const documentStorageKey = (orgId: string, documentId: string, version: number) =>
  `documents/${orgId}/${documentId}/v${version}`;

/** Every version of a document (what deleting the document removes). */
export const documentStoragePrefix = (orgId: string, documentId: string) => `documents/${orgId}/${documentId}/`;

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Keys come from ids we generate, but they still pass through here as paths: refuse anything that could
 * name a file outside the root (`..`, absolute paths, backslashes) rather than trying to clean it up.
 */
function keySegments(key: string, { allowTrailingSlash = false } = {}): string[] {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidStorageKeyError(String(key), 'empty');
  if (key.length > 1024) throw new InvalidStorageKeyError(key, 'longer than 1024 characters');
  if (key.startsWith('/')) throw new InvalidStorageKeyError(key, 'absolute');
  const trimmed = allowTrailingSlash && key.endsWith('/') ? key.slice(0, -1) : key;
  const segments = trimmed.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw new InvalidStorageKeyError(key, `segment ${JSON.stringify(s)}`);
    if (!SEGMENT.test(s)) throw new InvalidStorageKeyError(key, `segment ${JSON.stringify(s)} has other characters`);
  }
  return segments;
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';

/** Files under `rootDir`, one file per key (keys map to nested directories). */
export function createLocalFileStorage(rootDir: string): FileStorage {
  const pathOf = (segments: string[]) => join(rootDir, ...segments);

  return {
    async put(key, bytes) {
      const path = pathOf(keySegments(key));
      await mkdir(dirname(path), { recursive: true });
      // Write beside, then rename: readers (another process on a shared volume) see the old or the new file.
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temp, bytes);
        await rename(temp, path);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },

    async get(key) {
      try {
        const buffer = await readFile(pathOf(keySegments(key)));
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (err) {
        if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') throw new FileNotFoundError(key);
        throw err;
      }
    },

    async delete(key) {
      const path = pathOf(keySegments(key));
      await rm(path, { force: true });
    },

    async deletePrefix(prefix) {
      const segments = keySegments(prefix, { allowTrailingSlash: true });
      if (prefix.endsWith('/')) {
        await rm(pathOf(segments), { recursive: true, force: true });
        return;
      }
      // A partial last segment ("documents/o/d/v1" also matches "v10"): remove the siblings it starts.
      const parent = pathOf(segments.slice(0, -1));
      const start = segments.at(-1)!;
      let names: string[];
      try {
        names = await readdir(parent);
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      await Promise.all(
        names.filter((n) => n.startsWith(start)).map((n) => rm(join(parent, n), { recursive: true, force: true })),
      );
    },
  };
}
