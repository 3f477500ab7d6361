/**
 * The demo's LumaLeasing seeding through the real API, PGlite, file storage, the Temporal dev server and the
 * LumaLeasing workers: every sample document is ingested, the personas are set, and a restart changes nothing.
 */
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../api/app';
import type { AppEnv } from '../api/context';
import { properties } from '../db/schema';
import { SAMPLE_PROPERTIES, loadSampleDocuments } from '../sandbox/lumaleasing/sample-documents';
import { createTestApp, type TestApp } from '../test/app-fixture';
import { startLumaLeasingWorker, type LumaLeasingWorker } from '../test/lumaleasing-worker';
import { seedDemoLumaLeasing } from './demo-lumaleasing';

let t: TestApp;
let app: Hono<AppEnv>;
let worker: LumaLeasingWorker;
let ids: { reserveId: string; harborId: string };

beforeAll(async () => {
  t = await createTestApp();
  worker = await startLumaLeasingWorker({
    name: 'demo-lumaleasing',
    database: t.database,
    encryptor: t.deps.encryptor,
    storage: t.deps.storage!,
  });
  app = createApp({ ...t.deps, lumaleasingTaskQueues: worker.taskQueues });
  const [harbor] = await t.database.db
    .insert(properties)
    .values({ orgId: t.orgA.id, name: SAMPLE_PROPERTIES.harbor.name })
    .returning({ id: properties.id });
  ids = { reserveId: t.orgA.propertyId, harborId: harbor!.id };
});

afterAll(async () => {
  await worker?.close();
  await t?.close();
});

const headers = () => ({ authorization: `Bearer ${t.orgA.apiKey.key}` });

async function documentsOf(propertyId: string) {
  const res = await app.request(`/v1/lumaleasing/documents?propertyId=${propertyId}`, { headers: headers() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { documents: { filename: string; status: string; latestVersion: number }[] }).documents;
}

async function waitUntilIngested(propertyId: string, count: number) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const docs = await documentsOf(propertyId);
    if (docs.length === count && docs.every((d) => d.status === 'ready' || d.status === 'failed')) return docs;
    if (Date.now() > deadline) throw new Error(`not ingested in time: ${JSON.stringify(docs)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('seedDemoLumaLeasing', () => {
  test('uploads and ingests every sample document, sets the personas, and is idempotent', async () => {
    const reserveFiles = (await loadSampleDocuments(SAMPLE_PROPERTIES.reserve.slug)).map((d) => d.filename);
    const harborFiles = (await loadSampleDocuments(SAMPLE_PROPERTIES.harbor.slug)).map((d) => d.filename);

    const first = await seedDemoLumaLeasing(app, t.orgA.apiKey.key, ids);
    expect(first.uploaded).toHaveLength(reserveFiles.length + harborFiles.length);
    expect(first.configured).toEqual([SAMPLE_PROPERTIES.reserve.slug, SAMPLE_PROPERTIES.harbor.slug]);

    const reserve = await waitUntilIngested(ids.reserveId, reserveFiles.length);
    const harbor = await waitUntilIngested(ids.harborId, harborFiles.length);
    expect([...reserve, ...harbor].filter((d) => d.status !== 'ready')).toEqual([]);
    expect(reserve.map((d) => d.filename).sort()).toEqual([...reserveFiles].sort());

    const settings = await app.request(`/v1/lumaleasing/properties/${ids.harborId}/settings`, { headers: headers() });
    expect(((await settings.json()) as { settings: unknown }).settings).toMatchObject({
      enabled: true,
      botName: SAMPLE_PROPERTIES.harbor.chat.botName,
      brandColor: SAMPLE_PROPERTIES.harbor.chat.brandColor,
    });

    // A restart: nothing new is uploaded (the PDFs render to the same bytes), and staff's persona edits stay.
    await app.request(`/v1/lumaleasing/properties/${ids.reserveId}/settings`, {
      method: 'PUT',
      headers: { ...headers(), 'content-type': 'application/json' },
      body: JSON.stringify({ botName: 'Renamed by staff' }),
    });
    const second = await seedDemoLumaLeasing(app, t.orgA.apiKey.key, ids);
    expect(second.uploaded).toEqual([]);
    expect(second.unchanged).toHaveLength(reserveFiles.length + harborFiles.length);
    expect(second.configured).toEqual([]);
    expect((await documentsOf(ids.reserveId)).every((d) => d.latestVersion === 1)).toBe(true);
    const kept = await app.request(`/v1/lumaleasing/properties/${ids.reserveId}/settings`, { headers: headers() });
    expect(((await kept.json()) as { settings: { botName: string } }).settings.botName).toBe('Renamed by staff');
  });
});
