import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createLocalFileStorage,
  documentStorageKey,
  documentStoragePrefix,
  FileNotFoundError,
  InvalidStorageKeyError,
  type FileStorage,
} from './file-storage';

let root: string;
let storage: FileStorage;
const ORG = '00000000-0000-4000-8000-000000000001';
const DOC = '00000000-0000-4000-8000-0000000000d1';
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p11-storage-'));
  storage = createLocalFileStorage(join(root, 'documents-root'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('createLocalFileStorage', () => {
  test('put, get, overwrite and delete a key; no temporary files are left behind', async () => {
    const key = documentStorageKey(ORG, DOC, 1);
    expect(key).toBe(`documents/${ORG}/${DOC}/v1`);
    await storage.put(key, bytes('first'));
    expect(text(await storage.get(key))).toBe('first');
    await storage.put(key, bytes('second'));
    expect(text(await storage.get(key))).toBe('second');
    expect(await readdir(join(root, 'documents-root', 'documents', ORG, DOC))).toEqual(['v1']);
    await storage.delete(key);
    await expect(storage.get(key)).rejects.toBeInstanceOf(FileNotFoundError);
    // Deleting again is fine (a retried delete).
    await storage.delete(key);
  });

  test('deletePrefix removes every version of a document and nothing else', async () => {
    const other = '00000000-0000-4000-8000-0000000000d2';
    for (const v of [1, 2, 10]) await storage.put(documentStorageKey(ORG, DOC, v), bytes(`v${v}`));
    await storage.put(documentStorageKey(ORG, other, 1), bytes('other'));
    await storage.deletePrefix(documentStoragePrefix(ORG, DOC));
    for (const v of [1, 2, 10]) {
      await expect(storage.get(documentStorageKey(ORG, DOC, v))).rejects.toBeInstanceOf(FileNotFoundError);
    }
    expect(text(await storage.get(documentStorageKey(ORG, other, 1)))).toBe('other');
    await storage.deletePrefix(documentStoragePrefix(ORG, DOC));

    // A partial last segment matches names that start with it.
    await storage.put(`reports/${ORG}/a-1`, bytes('a1'));
    await storage.put(`reports/${ORG}/a-2`, bytes('a2'));
    await storage.put(`reports/${ORG}/b-1`, bytes('b1'));
    await storage.deletePrefix(`reports/${ORG}/a-`);
    await expect(storage.get(`reports/${ORG}/a-1`)).rejects.toBeInstanceOf(FileNotFoundError);
    expect(text(await storage.get(`reports/${ORG}/b-1`))).toBe('b1');
    await storage.deletePrefix('missing/prefix-');
  });

  test('refuses keys that could leave the root', async () => {
    for (const key of [
      '',
      '/etc/passwd',
      '../outside',
      'documents/../../x',
      'a//b',
      'a/./b',
      'a\\b',
      'a/b c',
      'a/\u0000',
    ]) {
      await expect(storage.put(key, bytes('x')), key).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(storage.get(key), key).rejects.toBeInstanceOf(InvalidStorageKeyError);
    }
    await expect(storage.deletePrefix('../')).rejects.toBeInstanceOf(InvalidStorageKeyError);
    await expect(storage.deletePrefix('/')).rejects.toBeInstanceOf(InvalidStorageKeyError);
  });
});
