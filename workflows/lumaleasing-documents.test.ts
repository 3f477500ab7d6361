/**
 * Document ingestion end to end on the real Temporal dev server: the workflow runs on a Worker with the real
 * activities over PGlite and local file storage; the embedder is a small deterministic fake (hashed words,
 * 1536 dimensions) whose speed and failures the tests control. Uploads are recorded the way the API records
 * them (document row, version row, stored file), then the ingestion workflow is started for the version.
 */
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { and, asc, eq, sql } from 'drizzle-orm';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createLumaLeasingDocumentActivities, deleteDocument } from '../activities/lumaleasing-documents';
import { chunkDocument, detectDocumentType, extractDocumentText } from '../activities/lumaleasing-text';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import {
  documents,
  EMBEDDING_DIMENSIONS,
  lumaleasingDocuments,
  lumaleasingDocumentVersions,
  type DocumentChunkMetadata,
} from '../db/schema/lumaleasing';
import { withTenant } from '../db/tenancy';
import type { Embedder } from '../integrations/embeddings';
import {
  createLocalFileStorage,
  documentStorageKey,
  FileNotFoundError,
  type FileStorage,
} from '../integrations/file-storage';
import { createTestDatabase } from '../test/database';
import { WORKFLOWS_PATH } from '../test/etl-worker';
import {
  documentIngestionWorkflowId,
  type DocumentIngestionInput,
  type DocumentIngestionResult,
  type IngestionProgress,
} from './lumaleasing';
import type { documentIngestionWorkflow } from './lumaleasing-documents';

// ── A deterministic fake embedder ─────────────────────────────────────────────────────────────────────────

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Signed feature hashing of lower-cased words, L2-normalised: texts sharing words point the same way. */
function hashedWordsVector(text: string): number[] {
  const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9$]+/g) ?? []) {
    const h = fnv1a(word);
    v[h % EMBEDDING_DIMENSIONS]! += (h >>> 31) & 1 ? -1 : 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** What the fake does on its next calls; tests change it and reset it. */
const embedderControl = {
  delayMs: 0,
  /** Errors thrown by the next calls, one per call. */
  failures: [] as Error[],
  calls: 0,
  texts: 0,
  reset() {
    this.delayMs = 0;
    this.failures = [];
  },
};

const fakeEmbedder: Embedder = {
  name: 'test-hashed-words-1536',
  dimensions: EMBEDDING_DIMENSIONS,
  // Long chunks of filler against a short question score low with hashed words; the ranking is what counts.
  defaultMatchThreshold: 0.01,
  async embed(texts) {
    embedderControl.calls++;
    const failure = embedderControl.failures.shift();
    if (failure) throw failure;
    if (embedderControl.delayMs) await new Promise((r) => setTimeout(r, embedderControl.delayMs));
    embedderControl.texts += texts.length;
    return texts.map(hashedWordsVector);
  },
};

/** An error shaped like the openai SDK's APIError (a numeric HTTP status). */
function httpError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status });
}

// ── PDFs ───────────────────────────────────────────────────────────────────────────────────────────────────

const VOCABULARY = (
  'resident lease parking garage amenity pool fitness package maintenance request portal rent deposit ' +
  'application office weekend community guest courtyard laundry elevator storage bicycle rooftop grill ' +
  'trash recycling renewal notice inspection keys fob lobby concierge water sewer internet cable'
).split(' ');

/** Deterministic filler sentences, different for every (seed, page). */
function filler(seed: number, sentences: number): string[] {
  let state = seed * 7919 + 17;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: sentences }, () => {
    const n = 9 + Math.floor(next() * 12);
    const words = Array.from({ length: n }, () => VOCABULARY[Math.floor(next() * VOCABULARY.length)]!);
    return `${words[0]![0]!.toUpperCase()}${words.join(' ').slice(1)}.`;
  });
}

/** A letter-size PDF, one entry per page: 8-point paragraphs wrapped at ~120 characters. */
async function makePdf(pages: string[][]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const paragraphs of pages) {
    const page = doc.addPage([612, 792]);
    let y = 750;
    for (const paragraph of paragraphs) {
      let line = '';
      for (const word of paragraph.split(' ')) {
        if (line && `${line} ${word}`.length > 120) {
          page.drawText(line, { x: 40, y, size: 8, font });
          y -= 10;
          line = word;
        } else {
          line = line ? `${line} ${word}` : word;
        }
      }
      if (line) page.drawText(line, { x: 40, y, size: 8, font });
      y -= 20;
    }
  }
  return doc.save();
}

/** `pageCount` pages of filler (`paragraphs` of five sentences each), `fact` only on `factPage`. */
function handbook(
  pageCount: number,
  fact: { page: number; text: string },
  seed = 1,
  paragraphsPerPage = 4,
): Promise<Uint8Array> {
  return makePdf(
    Array.from({ length: pageCount }, (_, i) => {
      const paragraphs = Array.from({ length: paragraphsPerPage }, (_, p) =>
        filler(seed * 1000 + i * 100 + p, 5).join(' '),
      );
      if (i + 1 === fact.page) paragraphs.splice(1, 0, fact.text);
      return paragraphs;
    }),
  );
}

// ── Harness ────────────────────────────────────────────────────────────────────────────────────────────────

let database: DatabaseHandle;
let storageRoot: string;
let storage: FileStorage;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;
let workerConnection: NativeConnection;
let taskQueue: string;
let orgId: string;
let propertyId: string;
let otherPropertyId: string;
const activities = () => createLumaLeasingDocumentActivities({ db: database.db, storage, embedder: fakeEmbedder });

beforeAll(async () => {
  // Failing and cancelled ingestions are expected here; keep the SDK's warnings (including the native side's
  // "activity not found on completion" when a cancelled batch finishes late) out of the output.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  database = await createTestDatabase();
  storageRoot = await mkdtemp(join(tmpdir(), 'p11-luma-docs-'));
  storage = createLocalFileStorage(storageRoot);
  const created = await createOrganization(database.db, {
    name: 'Luma Docs Org',
    slug: `luma-docs-${process.pid}-${Date.now().toString(36)}`,
    enabledProducts: ['lumaleasing'],
    properties: [{ name: 'The Reserve at Sandpoint' }, { name: 'Harbor View Lofts' }],
  });
  orgId = created.orgId;
  [propertyId, otherPropertyId] = created.propertyIds as [string, string];

  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  client = new Client({ connection: await Connection.connect({ address }), namespace });
  taskQueue = `luma-ingest-test-${process.pid}-${Date.now().toString(36)}`;
  workerConnection = await NativeConnection.connect({ address });
  worker = await Worker.create({
    connection: workerConnection,
    namespace,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: activities(),
    shutdownGraceTime: '1s',
  });
  workerRun = worker.run();
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await workerRun;
  await workerConnection?.close();
  await client?.connection.close();
  await database?.close();
  if (storageRoot) await rm(storageRoot, { recursive: true, force: true });
});

interface Uploaded {
  documentId: string;
  version: number;
}

/** Records an upload as the API does: the document (by filename) gets a new version and the file is stored. */
async function upload(filename: string, data: Uint8Array, options: { property?: string; title?: string } = {}) {
  const property = options.property ?? propertyId;
  const contentType = detectDocumentType(filename, data) ?? 'application/pdf';
  const uploaded: Uploaded = await withTenant(database.db, orgId, async (tx) => {
    let [doc] = await tx
      .select()
      .from(lumaleasingDocuments)
      .where(and(eq(lumaleasingDocuments.propertyId, property), eq(lumaleasingDocuments.filename, filename)));
    if (!doc) {
      [doc] = await tx
        .insert(lumaleasingDocuments)
        .values({
          orgId,
          propertyId: property,
          title: options.title ?? filename.replace(/\.[^.]+$/, ''),
          filename,
          createdBy: 'test',
        })
        .returning();
    }
    const version = doc!.latestVersion + 1;
    await tx.update(lumaleasingDocuments).set({ latestVersion: version }).where(eq(lumaleasingDocuments.id, doc!.id));
    await tx.insert(lumaleasingDocumentVersions).values({
      orgId,
      documentId: doc!.id,
      version,
      contentType,
      byteSize: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      storageKey: documentStorageKey(orgId, doc!.id, version),
      workflowId: documentIngestionWorkflowId(doc!.id, version),
      createdBy: 'test',
    });
    return { documentId: doc!.id, version };
  });
  await storage.put(documentStorageKey(orgId, uploaded.documentId, uploaded.version), data);
  return uploaded;
}

function startIngestion(uploaded: Uploaded, options: Partial<DocumentIngestionInput> = {}) {
  return client.workflow.start<typeof documentIngestionWorkflow>('documentIngestionWorkflow', {
    taskQueue,
    workflowId: documentIngestionWorkflowId(uploaded.documentId, uploaded.version),
    args: [{ orgId, propertyId, ...uploaded, ...options }],
    workflowExecutionTimeout: '2m',
  });
}

async function ingest(uploaded: Uploaded, options: Partial<DocumentIngestionInput> = {}) {
  return (await startIngestion(uploaded, options)).result();
}

interface Match {
  id: string;
  content: string;
  similarity: number;
  document_id: string;
  metadata: DocumentChunkMetadata;
}

const matchQuery = (question: string, property: string, threshold: number, count: number) =>
  sql`select * from match_documents(${JSON.stringify(hashedWordsVector(question))}::vector, ${threshold}, ${count}, ${property}::uuid)`;

async function match(question: string, options: { property?: string; threshold?: number; count?: number } = {}) {
  const { rows } = (await withTenant(database.db, orgId, (tx) =>
    tx.execute(matchQuery(question, options.property ?? propertyId, options.threshold ?? 0.01, options.count ?? 5)),
  )) as unknown as { rows: Match[] };
  return rows;
}

const chunkRows = (documentId: string) =>
  database.db
    .select()
    .from(documents)
    .where(eq(documents.documentId, documentId))
    .orderBy(asc(documents.version), asc(documents.chunkIndex));

async function versionRow(documentId: string, version: number) {
  const [row] = await database.db
    .select()
    .from(lumaleasingDocumentVersions)
    .where(
      and(eq(lumaleasingDocumentVersions.documentId, documentId), eq(lumaleasingDocumentVersions.version, version)),
    );
  return row!;
}

async function documentRow(documentId: string) {
  const [row] = await database.db.select().from(lumaleasingDocuments).where(eq(lumaleasingDocuments.id, documentId));
  return row;
}

interface ActivityRun {
  activity: string;
  attempt: number;
  outcome: 'completed' | 'failed' | 'timed out' | 'canceled' | 'running';
  failure: { type: string; nonRetryable: boolean } | null;
}

/** Each scheduled activity of the run, in order, from its event history. */
async function activityRuns(workflowId: string): Promise<ActivityRun[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const runs = new Map<string, ActivityRun>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      runs.set(String(e.eventId), {
        activity: scheduled.activityType!.name!,
        attempt: 0,
        outcome: 'running',
        failure: null,
      });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) runs.get(String(started.scheduledEventId))!.attempt = started.attempt ?? 0;
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) runs.get(String(completed.scheduledEventId))!.outcome = 'completed';
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) {
      const run = runs.get(String(failed.scheduledEventId))!;
      run.outcome = 'failed';
      const info = failed.failure?.applicationFailureInfo;
      run.failure = { type: info?.type ?? '', nonRetryable: !!info?.nonRetryable };
    }
  }
  return [...runs.values()];
}

const PET_FEE_V1 = 'Pet policy: the one-time pet fee is $300 per pet and monthly pet rent is $45.';
const PET_FEE_V2 = 'Pet policy: the one-time pet fee is $400 per pet and monthly pet rent is $60.';

// ── Workflow ───────────────────────────────────────────────────────────────────────────────────────────────

describe('documentIngestionWorkflow', () => {
  test('a multi-page PDF becomes embedded chunks with page numbers, the current version, and exact progress', async () => {
    embedderControl.reset();
    // One chunk per batch, slow enough that the batches run in several rounds of EMBED_CONCURRENCY.
    embedderControl.delayMs = 100;
    const uploaded = await upload('pet-policy.pdf', await handbook(6, { page: 2, text: PET_FEE_V1 }), {
      title: 'Pet Policy',
    });
    const handle = await startIngestion(uploaded, { embedBatchSize: 1 });
    // Progress as the admin UI polls it: never goes back, and the stages come in order.
    const seen: IngestionProgress[] = [];
    const watching = (async () => {
      for (;;) {
        try {
          const p = await handle.query<IngestionProgress>('progress');
          seen.push(p);
          if (['ready', 'failed', 'superseded'].includes(p.stage)) return;
        } catch {
          // Not picked up by the worker yet.
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const result: DocumentIngestionResult = await handle.result();
    await watching;
    embedderControl.reset();

    const rows = await chunkRows(uploaded.documentId);
    expect(result).toEqual({ status: 'ready', pages: 6, chunks: rows.length, duplicateChunks: 0, error: null });
    expect(rows.length).toBeGreaterThanOrEqual(6);
    expect(rows.map((r) => r.chunkIndex)).toEqual([...rows.keys()]);
    for (const r of rows) {
      expect(r).toMatchObject({ orgId, propertyId, version: 1 });
      expect(r.embedding).toHaveLength(EMBEDDING_DIMENSIONS);
      expect(r.tokenCount).toBeGreaterThan(0);
      expect(r.tokenCount).toBeLessThanOrEqual(500);
      expect(r.metadata.source).toBe('Pet Policy');
    }
    expect(new Set(rows.map((r) => r.metadata.page))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    const withFact = rows.filter((r) => r.content.includes('$300'));
    expect(withFact.map((r) => r.metadata.page)).toEqual([2]);

    expect(await documentRow(uploaded.documentId)).toMatchObject({ currentVersion: 1, latestVersion: 1 });
    const version = await versionRow(uploaded.documentId, 1);
    expect(version).toMatchObject({
      status: 'ready',
      pages: 6,
      chunkCount: rows.length,
      duplicateChunks: 0,
      error: null,
    });
    expect(version.finishedAt).toBeInstanceOf(Date);

    const [best] = await match('what is the pet fee per pet');
    expect(best!.content).toContain(PET_FEE_V1);
    expect(best!.metadata).toEqual({ source: 'Pet Policy', page: 2 });
    // Retrieval is per property.
    expect(await match('what is the pet fee per pet', { property: otherPropertyId })).toEqual([]);

    expect(seen.length).toBeGreaterThan(1);
    const order = ['extracting', 'embedding', 'publishing', 'ready'];
    for (const [i, p] of seen.entries()) {
      if (i === 0) continue;
      expect(order.indexOf(p.stage)).toBeGreaterThanOrEqual(order.indexOf(seen[i - 1]!.stage));
      expect(p.chunksEmbedded).toBeGreaterThanOrEqual(seen[i - 1]!.chunksEmbedded);
    }
    expect(seen.some((p) => p.stage === 'embedding' && p.chunksEmbedded > 0 && p.chunksEmbedded < rows.length)).toBe(
      true,
    );
    expect(await handle.query<IngestionProgress>('progress')).toEqual({
      stage: 'ready',
      pages: 6,
      chunksTotal: rows.length,
      chunksEmbedded: rows.length,
      duplicateChunks: 0,
      error: null,
    });
    // One batch per chunk (embedBatchSize 1), at most EMBED_CONCURRENCY at a time.
    const runs = await activityRuns(handle.workflowId);
    expect(runs.map((r) => r.activity)).toEqual([
      'extractDocumentChunks',
      ...Array.from({ length: rows.length }, () => 'embedDocumentChunks'),
      'publishDocumentVersion',
    ]);
    expect(runs.every((r) => r.outcome === 'completed' && r.attempt === 1)).toBe(true);
    // Concurrency from the history: embedding batches scheduled minus closed peaks at EMBED_CONCURRENCY (4).
    const events = (await handle.fetchHistory()).events ?? [];
    const embedIds = new Set<string>();
    let inFlight = 0;
    let maxInFlight = 0;
    for (const e of events) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'embedDocumentChunks') {
        embedIds.add(String(e.eventId));
        maxInFlight = Math.max(maxInFlight, ++inFlight);
      }
      const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
      if (closed && embedIds.has(String(closed.scheduledEventId))) inFlight--;
    }
    expect(maxInFlight).toBe(Math.min(4, rows.length));
    expect(inFlight).toBe(0);
  });

  test('re-uploading replaces the version atomically: retrieval never returns a mix of the two', async () => {
    const v1 = await upload('fees.pdf', await handbook(8, { page: 2, text: PET_FEE_V1 }, 11), { title: 'Fees' });
    expect(await ingest(v1)).toMatchObject({ status: 'ready' });
    const v1Ids = new Set((await chunkRows(v1.documentId)).map((r) => r.id));

    const v2 = await upload('fees.pdf', await handbook(12, { page: 3, text: PET_FEE_V2 }, 12));
    expect(v2).toEqual({ documentId: v1.documentId, version: 2 });

    // What a visitor's question sees, read in one transaction together with how far v2's embedding is.
    interface Observation {
      ids: string[];
      v2Embedded: number;
      v2Rows: number;
      current: number | null;
    }
    const observations: Observation[] = [];
    const observe = () =>
      withTenant(database.db, orgId, async (tx) => {
        const { rows } = (await tx.execute(matchQuery('pet fee per pet', propertyId, -1, 5))) as unknown as {
          rows: Match[];
        };
        const [progress] = (
          (await tx.execute(sql`
            select count(*) filter (where embedding is not null)::int as embedded, count(*)::int as total
            from documents where document_id = ${v1.documentId}::uuid and version = 2`)) as unknown as {
            rows: { embedded: number; total: number }[];
          }
        ).rows;
        const doc = await tx
          .select({ current: lumaleasingDocuments.currentVersion })
          .from(lumaleasingDocuments)
          .where(eq(lumaleasingDocuments.id, v1.documentId));
        observations.push({
          ids: rows.filter((r) => r.document_id === v1.documentId).map((r) => r.id),
          v2Embedded: progress!.embedded,
          v2Rows: progress!.total,
          current: doc[0]!.current,
        });
      });
    let done = false;
    const polling = (async () => {
      while (!done) {
        await observe();
        await new Promise((r) => setTimeout(r, 2));
      }
    })();

    embedderControl.reset();
    embedderControl.delayMs = 25;
    const result = await ingest(v2, { embedBatchSize: 1 });
    embedderControl.reset();
    done = true;
    await polling;
    await observe();
    expect(result).toMatchObject({ status: 'ready', pages: 12 });

    const v2Rows = await chunkRows(v1.documentId);
    const v2Ids = new Set(v2Rows.map((r) => r.id));
    expect(v2Rows.every((r) => r.version === 2)).toBe(true);
    let switched = false;
    for (const o of observations) {
      expect(o.ids.length).toBeGreaterThan(0);
      const fromV1 = o.ids.filter((id) => v1Ids.has(id)).length;
      const fromV2 = o.ids.filter((id) => v2Ids.has(id)).length;
      // One version or the other, never both, and never anything else.
      expect([fromV1, fromV2].sort()).toEqual([0, o.ids.length]);
      expect(fromV2 > 0).toBe(o.current === 2);
      // Once v2 is live, v1 never comes back.
      if (switched) expect(fromV2).toBe(o.ids.length);
      if (fromV2 > 0) switched = true;
    }
    expect(switched).toBe(true);
    // The poller really ran while v2 was half embedded, and saw only v1 then.
    const midway = observations.filter((o) => o.v2Embedded > 0 && o.v2Embedded < o.v2Rows);
    expect(midway.length).toBeGreaterThan(0);
    for (const o of midway) expect(o.ids.every((id) => v1Ids.has(id))).toBe(true);

    const [best] = await match('what is the pet fee per pet');
    expect(best!.content).toContain(PET_FEE_V2);
    expect(best!.metadata.page).toBe(3);
    const fees = (await match('pet fee $300', { count: 20 })).filter((m) => m.document_id === v1.documentId);
    expect(fees.length).toBeGreaterThan(0);
    expect(fees.some((m) => m.content.includes('$300'))).toBe(false);
    expect(await versionRow(v1.documentId, 1)).toMatchObject({ status: 'superseded' });
    expect(await versionRow(v1.documentId, 2)).toMatchObject({ status: 'ready', pages: 12 });
    expect(await documentRow(v1.documentId)).toMatchObject({ currentVersion: 2, latestVersion: 2 });
  });

  test('deleting a document removes its vectors, versions and files', async () => {
    const uploaded = await upload('deleted.pdf', await handbook(3, { page: 2, text: 'The sundeck closes at eleven.' }));
    expect(await ingest(uploaded)).toMatchObject({ status: 'ready' });
    expect((await match('when does the sundeck close')).some((m) => m.document_id === uploaded.documentId)).toBe(true);

    expect(await deleteDocument(database.db, storage, orgId, uploaded.documentId)).toBe(true);
    expect(await chunkRows(uploaded.documentId)).toEqual([]);
    expect(await documentRow(uploaded.documentId)).toBeUndefined();
    const versions = await database.db
      .select()
      .from(lumaleasingDocumentVersions)
      .where(eq(lumaleasingDocumentVersions.documentId, uploaded.documentId));
    expect(versions).toEqual([]);
    await expect(storage.get(documentStorageKey(orgId, uploaded.documentId, 1))).rejects.toBeInstanceOf(
      FileNotFoundError,
    );
    expect((await match('when does the sundeck close')).some((m) => m.document_id === uploaded.documentId)).toBe(false);
    // Again (a retried API call): nothing there, nothing thrown.
    expect(await deleteDocument(database.db, storage, orgId, uploaded.documentId)).toBe(false);
    // Another organization cannot delete it (row-level security), even knowing the id.
    const other = await upload('kept.pdf', await handbook(1, { page: 1, text: 'Kept.' }));
    expect(await deleteDocument(database.db, storage, randomUUID(), other.documentId)).toBe(false);
    expect(await documentRow(other.documentId)).toBeDefined();
  });

  test('a damaged PDF fails the version once, with the reason, and is never retried', async () => {
    const uploaded = await upload('broken.pdf', new TextEncoder().encode('%PDF-1.7\n1 0 obj << /Type /Catalog'));
    const handle = await startIngestion(uploaded);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'failed', chunks: 0 });
    expect(result.error).toMatch(/damaged or not a valid PDF/);
    expect((await activityRuns(handle.workflowId)).map((r) => [r.activity, r.attempt, r.outcome, r.failure])).toEqual([
      ['extractDocumentChunks', 1, 'failed', { type: 'DocumentUnreadable', nonRetryable: true }],
    ]);
    const described = await handle.describe();
    expect(described.status.name).toBe('COMPLETED');
    expect(await handle.query<IngestionProgress>('progress')).toMatchObject({ stage: 'failed', error: result.error });
    const version = await versionRow(uploaded.documentId, 1);
    expect(version).toMatchObject({ status: 'failed', error: result.error });
    expect(version.finishedAt).toBeInstanceOf(Date);
    expect(await chunkRows(uploaded.documentId)).toEqual([]);
    expect(await documentRow(uploaded.documentId)).toMatchObject({ currentVersion: null });
  });

  test('a scanned PDF (no text layer) and a file missing from storage fail with reasons staff can act on', async () => {
    const scan = await PDFDocument.create();
    scan.addPage();
    const scanned = await upload('scan.pdf', await scan.save());
    expect(await ingest(scanned)).toMatchObject({ status: 'failed', error: expect.stringMatching(/no text layer/) });

    const missing = await upload('gone.md', new TextEncoder().encode('# Gone\n\nSoon gone.'));
    await storage.delete(documentStorageKey(orgId, missing.documentId, missing.version));
    const handle = await startIngestion(missing);
    expect(await handle.result()).toMatchObject({ status: 'failed', error: expect.stringMatching(/missing/) });
    expect((await activityRuns(handle.workflowId)).map((r) => [r.activity, r.attempt, r.failure?.type])).toEqual([
      ['extractDocumentChunks', 1, 'DocumentFileMissing'],
    ]);
    expect(await versionRow(missing.documentId, 1)).toMatchObject({ status: 'failed' });
  });

  test('a failing embedding service: an outage is retried, a refused request fails the version', async () => {
    const uploaded = await upload('outage.md', new TextEncoder().encode(`# Hours\n\n${filler(5, 12).join(' ')}`));
    embedderControl.reset();
    embedderControl.failures = [httpError(503, 'Service Unavailable')];
    const handle = await startIngestion(uploaded);
    expect(await handle.result()).toMatchObject({ status: 'ready', pages: null });
    const embeds = (await activityRuns(handle.workflowId)).filter((r) => r.activity === 'embedDocumentChunks');
    expect(embeds.map((r) => [r.attempt, r.outcome])).toEqual([[2, 'completed']]);

    const refused = await upload('refused.md', new TextEncoder().encode(`# Fees\n\n${filler(6, 12).join(' ')}`));
    embedderControl.failures = [httpError(401, 'Incorrect API key provided')];
    const refusedHandle = await startIngestion(refused);
    const result = await refusedHandle.result();
    embedderControl.reset();
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/^Embedding failed: .*refused the request \(401\)/);
    expect(
      (await activityRuns(refusedHandle.workflowId)).map((r) => [r.activity, r.attempt, r.outcome, r.failure]),
    ).toEqual([
      ['extractDocumentChunks', 1, 'completed', null],
      ['embedDocumentChunks', 1, 'failed', { type: 'EmbeddingRejected', nonRetryable: true }],
      ['markDocumentVersionFailed', 1, 'completed', null],
    ]);
    expect(await versionRow(refused.documentId, 1)).toMatchObject({ status: 'failed', error: result.error });
    expect(await chunkRows(refused.documentId)).toEqual([]);
  });

  test('cancelling a running ingestion (as deleting the document does) marks the version failed', async () => {
    const uploaded = await upload('cancelled.pdf', await handbook(6, { page: 1, text: 'Cancelled.' }));
    embedderControl.reset();
    embedderControl.delayMs = 300;
    const handle = await startIngestion(uploaded, { embedBatchSize: 1 });
    for (let i = 0; i < 200; i++) {
      const p = await handle.query<IngestionProgress>('progress').catch(() => null);
      if (p?.stage === 'embedding') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    embedderControl.reset();
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(await versionRow(uploaded.documentId, 1)).toMatchObject({
      status: 'failed',
      error: 'Ingestion was cancelled.',
    });
    expect(await chunkRows(uploaded.documentId)).toEqual([]);
  });

  test('throughput: a 100-page PDF (fake embedder)', async () => {
    // A dense page (~850 tokens, ten paragraphs) gives two chunks, as a real handbook page does.
    const pdf = await handbook(100, { page: 57, text: 'The mailroom passcode rotates monthly.' }, 42, 10);
    let started = performance.now();
    const { pages } = await extractDocumentText(pdf, 'application/pdf');
    const extractMs = performance.now() - started;
    started = performance.now();
    const { chunks } = await chunkDocument(pages, { title: 'Resident Handbook' });
    const chunkMs = performance.now() - started;

    const uploaded = await upload('handbook.pdf', pdf, { title: 'Resident Handbook' });
    embedderControl.reset();
    const textsBefore = embedderControl.texts;
    started = performance.now();
    const result = await ingest(uploaded);
    const totalMs = performance.now() - started;
    expect(result).toMatchObject({ status: 'ready', pages: 100, chunks: chunks.length, duplicateChunks: 0 });
    expect(embedderControl.texts - textsBefore).toBe(chunks.length);
    const rows = await chunkRows(uploaded.documentId);
    expect(new Set(rows.map((r) => r.metadata.page)).size).toBe(100);
    const [best] = await match('mailroom passcode');
    expect(best!.metadata).toEqual({ source: 'Resident Handbook', page: 57 });
    expect(rows.length).toBeGreaterThanOrEqual(200);

    const tokens = rows.reduce((s, r) => s + r.tokenCount, 0);
    console.info(
      `[ingestion throughput] 100-page PDF (${pdf.length} bytes, ${tokens} tokens): ${rows.length} chunks; ` +
        `extract ${extractMs.toFixed(0)} ms, chunk ${chunkMs.toFixed(0)} ms; workflow end to end ` +
        `${totalMs.toFixed(0)} ms = ${((rows.length * 1000) / totalMs).toFixed(1)} chunks/s ` +
        `(${((100 * 1000) / totalMs).toFixed(1)} pages/s)`,
    );
  });
});

// ── Activities, called directly (idempotency under retry) ───────────────────────────────────────────────────

describe('document ingestion activities', () => {
  test('extract, embed and publish are idempotent when repeated', async () => {
    const acts = activities();
    const uploaded = await upload('idempotent.pdf', await handbook(4, { page: 2, text: PET_FEE_V1 }, 21));
    const ref = { orgId, ...uploaded };

    const first = await acts.extractDocumentChunks(ref);
    const firstRows = await chunkRows(uploaded.documentId);
    const again = await acts.extractDocumentChunks(ref);
    const againRows = await chunkRows(uploaded.documentId);
    expect(again).toEqual(first);
    expect(againRows.map((r) => [r.chunkIndex, r.content, r.metadata])).toEqual(
      firstRows.map((r) => [r.chunkIndex, r.content, r.metadata]),
    );
    expect(await versionRow(uploaded.documentId, 1)).toMatchObject({ status: 'processing', pages: 4 });

    embedderControl.reset();
    const calls = embedderControl.calls;
    const texts = embedderControl.texts;
    expect(await acts.embedDocumentChunks({ ...ref, fromIndex: 0, count: 2 })).toEqual({ embedded: 2 });
    // A retry of the same batch (its completion was lost): reports the same, embeds nothing again.
    expect(await acts.embedDocumentChunks({ ...ref, fromIndex: 0, count: 2 })).toEqual({ embedded: 2 });
    expect(embedderControl.calls - calls).toBe(1);
    // An overlapping range embeds only what is still missing.
    expect(await acts.embedDocumentChunks({ ...ref, fromIndex: 0, count: 1000 })).toEqual({ embedded: first.chunks });
    expect(embedderControl.texts - texts).toBe(first.chunks);

    expect(await acts.publishDocumentVersion(ref)).toEqual({ status: 'ready' });
    expect(await acts.publishDocumentVersion(ref)).toEqual({ status: 'ready' });
    // Extraction repeated after publishing (a reset run) leaves the live rows alone.
    const live = (await chunkRows(uploaded.documentId)).map((r) => r.id);
    expect(await acts.extractDocumentChunks(ref)).toEqual(first);
    expect((await chunkRows(uploaded.documentId)).map((r) => r.id)).toEqual(live);
    // A late failure report cannot undo a published version.
    expect(await acts.markDocumentVersionFailed({ ...ref, reason: 'late' })).toEqual({ status: null });
    expect(await versionRow(uploaded.documentId, 1)).toMatchObject({ status: 'ready', error: null });
  });

  test('an older version finishing after a newer one went live is superseded, and its rows removed', async () => {
    const acts = activities();
    const v1 = await upload('race.pdf', await handbook(2, { page: 1, text: PET_FEE_V1 }, 31));
    const v2 = await upload('race.pdf', await handbook(2, { page: 1, text: PET_FEE_V2 }, 32));
    const r1 = { orgId, ...v1 };
    const r2 = { orgId, ...v2 };
    await acts.extractDocumentChunks(r1);
    await acts.embedDocumentChunks({ ...r1, fromIndex: 0, count: 100 });
    await acts.extractDocumentChunks(r2);
    await acts.embedDocumentChunks({ ...r2, fromIndex: 0, count: 100 });

    expect(await acts.publishDocumentVersion(r2)).toEqual({ status: 'ready' });
    // Publishing v2 retired v1 (still processing) and its rows at once.
    expect(await versionRow(v1.documentId, 1)).toMatchObject({ status: 'superseded' });
    expect(new Set((await chunkRows(v1.documentId)).map((r) => r.version))).toEqual(new Set([2]));
    expect(await acts.publishDocumentVersion(r1)).toEqual({ status: 'superseded' });
    // v1's run, still going, extracts nothing more.
    expect(await acts.extractDocumentChunks(r1)).toMatchObject({ chunks: 0 });
    expect(new Set((await chunkRows(v1.documentId)).map((r) => r.version))).toEqual(new Set([2]));
    expect(await documentRow(v1.documentId)).toMatchObject({ currentVersion: 2 });

    // A v3 whose ingestion is still running does not disturb the live v2 when v2 is published again.
    const v3 = await upload('race.pdf', new TextEncoder().encode('%PDF-1.7 broken'));
    await expect(acts.extractDocumentChunks({ orgId, ...v3 })).rejects.toMatchObject({
      type: 'DocumentUnreadable',
      nonRetryable: true,
    });
    expect(await acts.publishDocumentVersion(r2)).toEqual({ status: 'ready' });
    expect(await versionRow(v1.documentId, 3)).toMatchObject({ status: 'failed' });
    expect(await documentRow(v1.documentId)).toMatchObject({ currentVersion: 2, latestVersion: 3 });
  });

  test('publishing refuses a version whose chunks are not all embedded', async () => {
    const acts = activities();
    const uploaded = await upload('half.md', new TextEncoder().encode(filler(9, 80).join('\n\n')));
    const ref = { orgId, ...uploaded };
    const { chunks } = await acts.extractDocumentChunks(ref);
    expect(chunks).toBeGreaterThan(1);
    await acts.embedDocumentChunks({ ...ref, fromIndex: 0, count: 1 });
    await expect(acts.publishDocumentVersion(ref)).rejects.toMatchObject({
      type: 'DocumentVersionNotPublishable',
      nonRetryable: true,
    });
    expect(await documentRow(uploaded.documentId)).toMatchObject({ currentVersion: null });
  });
});
