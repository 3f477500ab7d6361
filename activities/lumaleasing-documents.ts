/**
 * Document ingestion activities: extract and chunk a stored upload, embed its chunks in batches, and publish
 * the version (the one statement that switches retrieval from the old version's chunks to the new one's).
 *
 * Idempotency: chunk rows are keyed by (document, version, chunk index) and extraction replaces a version's
 * rows wholesale, so a retried extraction writes the same rows again; embedding only fills rows whose
 * embedding is still null; publishing a version that is already ready or superseded returns that outcome.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, count, eq, gte, inArray, isNull, lt, sql } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import type { Database, Transaction } from '../db/client';
import {
  documents,
  EMBEDDING_DIMENSIONS,
  lumaleasingDocuments,
  lumaleasingDocumentVersions,
  type LumaleasingDocument,
  type LumaleasingDocumentVersion,
} from '../db/schema/lumaleasing';
import { withTenant } from '../db/tenancy';
import type { Embedder } from '../integrations/embeddings';
import { documentStoragePrefix, FileNotFoundError, type FileStorage } from '../integrations/file-storage';
import { chunkDocument, DocumentUnreadableError, extractDocumentText, type Chunk } from './lumaleasing-text';

export interface LumaLeasingDocumentActivityDeps {
  db: Database;
  storage: FileStorage;
  embedder: Embedder;
}

/** Error types the ingestion workflow (and operators in the Web UI) see on failed activities. */
export const INGESTION_ERRORS = {
  /** The file cannot be read as text (damaged, encrypted, scanned, empty). The version is marked failed. */
  unreadable: 'DocumentUnreadable',
  /** The uploaded bytes are gone or differ from the upload. The version is marked failed. */
  fileMissing: 'DocumentFileMissing',
  /** The document or version was deleted while it was being ingested. */
  notFound: 'DocumentNotFound',
  /** The embedding service refused the request (bad key, bad input): retrying sends the same request. */
  embeddingRejected: 'EmbeddingRejected',
  /** The embedder answered with the wrong number or size of vectors. */
  embeddingInvalid: 'EmbeddingInvalid',
  /** Publishing found chunks without embeddings or a failed version: a bug, not something a retry fixes. */
  notPublishable: 'DocumentVersionNotPublishable',
} as const;

export interface DocumentVersionRef {
  orgId: string;
  documentId: string;
  version: number;
}

export interface ExtractDocumentChunksResult {
  /** PDF pages; null for formats without pages. */
  pages: number | null;
  /** Chunk rows stored for the version (indexes 0..chunks-1). */
  chunks: number;
  duplicateChunks: number;
}

export interface EmbedDocumentChunksInput extends DocumentVersionRef {
  fromIndex: number;
  count: number;
}

export interface EmbedDocumentChunksResult {
  /**
   * Chunks of the range that have their embedding now, whichever attempt wrote it: a retry after a commit
   * whose completion was lost reports the same number, so the workflow's progress stays exact.
   */
  embedded: number;
}

export interface PublishDocumentVersionResult {
  status: 'ready' | 'superseded';
}

export interface MarkDocumentVersionFailedInput extends DocumentVersionRef {
  reason: string;
}

/** Rows per INSERT: ten parameters each keeps a statement far below PostgreSQL's 65,535-parameter limit. */
const INSERT_BATCH = 500;

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 1000);
}

/** Heartbeats when running as an activity (tests also call these functions directly). */
function heartbeat(details?: unknown) {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(details);
}

function cancelledIfRequested() {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  // Cancelled (the document was deleted, or an operator cancelled the run): don't spend more on it.
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason ?? new Error('cancelled');
}

async function loadForUpdate(
  tx: Transaction,
  documentId: string,
  version: number,
): Promise<{ document: LumaleasingDocument; version: LumaleasingDocumentVersion } | null> {
  const [document] = await tx
    .select()
    .from(lumaleasingDocuments)
    .where(eq(lumaleasingDocuments.id, documentId))
    .for('update');
  if (!document) return null;
  const [row] = await tx
    .select()
    .from(lumaleasingDocumentVersions)
    .where(
      and(eq(lumaleasingDocumentVersions.documentId, documentId), eq(lumaleasingDocumentVersions.version, version)),
    )
    .for('update');
  return row ? { document, version: row } : null;
}

const notFound = (ref: DocumentVersionRef) =>
  ApplicationFailure.nonRetryable(
    `Document ${ref.documentId} version ${ref.version} not found (deleted?)`,
    INGESTION_ERRORS.notFound,
  );

const versionRows = (documentId: string, version: number) =>
  and(eq(documents.documentId, documentId), eq(documents.version, version));

async function markFailed(tx: Transaction, ref: DocumentVersionRef, reason: string) {
  const [row] = await tx
    .update(lumaleasingDocumentVersions)
    .set({ status: 'failed', error: reason.slice(0, 2000), finishedAt: sql`now()` })
    .where(
      and(
        eq(lumaleasingDocumentVersions.documentId, ref.documentId),
        eq(lumaleasingDocumentVersions.version, ref.version),
        // A version that made it to ready or superseded keeps that outcome.
        inArray(lumaleasingDocumentVersions.status, ['pending', 'processing', 'failed']),
      ),
    )
    .returning({ status: lumaleasingDocumentVersions.status });
  if (row) {
    await tx.delete(documents).where(versionRows(ref.documentId, ref.version));
    await tx
      .update(lumaleasingDocuments)
      .set({ updatedAt: sql`now()` })
      .where(eq(lumaleasingDocuments.id, ref.documentId));
  }
  return row?.status ?? null;
}

/** `[0.1,0.2,…]`, pgvector's text form; refuses what PostgreSQL would refuse, with a clearer message. */
function vectorLiteral(vector: number[]): string {
  if (vector.length !== EMBEDDING_DIMENSIONS) {
    throw ApplicationFailure.nonRetryable(
      `The embedder returned ${vector.length} dimensions; the documents table stores ${EMBEDDING_DIMENSIONS}`,
      INGESTION_ERRORS.embeddingInvalid,
    );
  }
  for (const x of vector) {
    if (!Number.isFinite(x)) {
      throw ApplicationFailure.nonRetryable(
        'The embedder returned a non-finite value',
        INGESTION_ERRORS.embeddingInvalid,
      );
    }
  }
  return `[${vector.join(',')}]`;
}

/** HTTP statuses that mean the request itself is wrong: the same request will fail the same way. */
const PERMANENT_STATUSES = new Set([400, 401, 403, 404, 422]);

export function createLumaLeasingDocumentActivities(deps: LumaLeasingDocumentActivityDeps) {
  const { db, storage, embedder } = deps;

  async function failUnreadable(ref: DocumentVersionRef, reason: string, type: string): Promise<never> {
    await withTenant(db, ref.orgId, (tx) => markFailed(tx, ref, reason));
    throw ApplicationFailure.nonRetryable(reason, type);
  }

  return {
    async extractDocumentChunks(ref: DocumentVersionRef): Promise<ExtractDocumentChunksResult> {
      const { orgId, documentId, version } = ref;
      const target = await withTenant(db, orgId, (tx) => loadForUpdate(tx, documentId, version));
      if (!target) throw notFound(ref);
      const stored = target.version;
      // Already past extraction (a reset or repeated run): report what is stored rather than replace the rows
      // retrieval may be reading.
      if (stored.status === 'ready' || stored.status === 'superseded') {
        return {
          pages: stored.pages,
          chunks: stored.status === 'ready' ? (stored.chunkCount ?? 0) : 0,
          duplicateChunks: stored.duplicateChunks ?? 0,
        };
      }

      let bytes: Uint8Array;
      try {
        bytes = await storage.get(stored.storageKey);
      } catch (err) {
        if (err instanceof FileNotFoundError) {
          return failUnreadable(
            ref,
            'The uploaded file is missing from storage; upload it again.',
            INGESTION_ERRORS.fileMissing,
          );
        }
        throw err;
      }
      if (createHash('sha256').update(bytes).digest('hex') !== stored.sha256) {
        return failUnreadable(
          ref,
          'The stored file does not match the upload (checksum mismatch); upload it again.',
          INGESTION_ERRORS.fileMissing,
        );
      }

      let chunks: Chunk[];
      let duplicates: number;
      let pages: number | null;
      try {
        const extracted = await extractDocumentText(bytes, stored.contentType);
        pages = stored.contentType === 'application/pdf' ? extracted.pages.length : null;
        ({ chunks, duplicates } = await chunkDocument(extracted.pages, { title: target.document.title }));
        if (chunks.length === 0) throw new DocumentUnreadableError('The file contains no text.');
      } catch (err) {
        if (err instanceof DocumentUnreadableError) {
          return failUnreadable(ref, err.reason, INGESTION_ERRORS.unreadable);
        }
        throw err;
      }

      return withTenant(db, orgId, async (tx) => {
        const current = await loadForUpdate(tx, documentId, version);
        if (!current) throw notFound(ref);
        const { document } = current;
        // Marked failed while we were reading (the run was cancelled, or the document is being deleted): a
        // late attempt must not bring the rows back.
        if (current.version.status === 'failed' && stored.status !== 'failed') {
          throw ApplicationFailure.nonRetryable(
            `Version ${version} of document ${documentId} was marked failed during extraction (${current.version.error})`,
            INGESTION_ERRORS.notPublishable,
          );
        }
        if (current.version.status === 'ready' || current.version.status === 'superseded') {
          return { pages: current.version.pages, chunks: current.version.chunkCount ?? 0, duplicateChunks: duplicates };
        }
        // A newer version went live while this one was queued: nothing here will ever be read.
        if (document.currentVersion !== null && version < document.currentVersion) {
          await tx
            .update(lumaleasingDocumentVersions)
            .set({ status: 'superseded', finishedAt: sql`now()` })
            .where(
              and(
                eq(lumaleasingDocumentVersions.documentId, documentId),
                eq(lumaleasingDocumentVersions.version, version),
              ),
            );
          await tx.delete(documents).where(versionRows(documentId, version));
          return { pages, chunks: 0, duplicateChunks: duplicates };
        }
        await tx.delete(documents).where(versionRows(documentId, version));
        for (let i = 0; i < chunks.length; i += INSERT_BATCH) {
          await tx.insert(documents).values(
            chunks.slice(i, i + INSERT_BATCH).map((c) => ({
              orgId,
              propertyId: document.propertyId,
              documentId,
              version,
              chunkIndex: c.index,
              content: c.content,
              contentSha256: c.contentSha256,
              tokenCount: c.tokenCount,
              metadata: c.metadata,
            })),
          );
        }
        await tx
          .update(lumaleasingDocumentVersions)
          .set({ status: 'processing', error: null, pages, chunkCount: chunks.length, duplicateChunks: duplicates })
          .where(
            and(
              eq(lumaleasingDocumentVersions.documentId, documentId),
              eq(lumaleasingDocumentVersions.version, version),
            ),
          );
        return { pages, chunks: chunks.length, duplicateChunks: duplicates };
      });
    },

    async embedDocumentChunks(input: EmbedDocumentChunksInput): Promise<EmbedDocumentChunksResult> {
      const { orgId, documentId, version, fromIndex } = input;
      const end = fromIndex + input.count;
      const inRange = and(
        versionRows(documentId, version),
        gte(documents.chunkIndex, fromIndex),
        lt(documents.chunkIndex, end),
      );
      const pending = await withTenant(db, orgId, (tx) =>
        tx
          .select({ id: documents.id, content: documents.content })
          .from(documents)
          .where(and(inRange, isNull(documents.embedding)))
          .orderBy(asc(documents.chunkIndex)),
      );
      if (pending.length > 0) {
        heartbeat({ fromIndex, pending: pending.length });
        let vectors: number[][];
        try {
          vectors = await embedder.embed(pending.map((r) => r.content));
        } catch (err) {
          const status = (err as { status?: unknown } | null)?.status;
          if (typeof status === 'number' && PERMANENT_STATUSES.has(status)) {
            throw ApplicationFailure.nonRetryable(
              `${embedder.name} refused the request (${status}): ${describe(err)}`,
              INGESTION_ERRORS.embeddingRejected,
            );
          }
          // Rate limits, timeouts and outages recover: the workflow's retry policy backs off.
          throw err;
        }
        if (vectors.length !== pending.length) {
          throw ApplicationFailure.nonRetryable(
            `${embedder.name} returned ${vectors.length} embeddings for ${pending.length} texts`,
            INGESTION_ERRORS.embeddingInvalid,
          );
        }
        const values = sql.join(
          pending.map((row, i) => sql`(${row.id}::uuid, ${vectorLiteral(vectors[i]!)}::vector)`),
          sql`, `,
        );
        heartbeat({ fromIndex, embedded: pending.length });
        cancelledIfRequested();
        await withTenant(db, orgId, (tx) =>
          tx.execute(sql`
            update documents d set embedding = v.embedding
            from (values ${values}) as v(id, embedding)
            where d.id = v.id and d.embedding is null`),
        );
      }
      const [done] = await withTenant(db, orgId, (tx) =>
        tx
          .select({ n: count() })
          .from(documents)
          .where(and(inRange, sql`${documents.embedding} is not null`)),
      );
      return { embedded: done?.n ?? 0 };
    },

    async publishDocumentVersion(ref: DocumentVersionRef): Promise<PublishDocumentVersionResult> {
      const { orgId, documentId, version } = ref;
      return withTenant(db, orgId, async (tx) => {
        const target = await loadForUpdate(tx, documentId, version);
        if (!target) throw notFound(ref);
        const { document, version: stored } = target;
        if (stored.status === 'superseded') return { status: 'superseded' };
        if (stored.status === 'ready' && document.currentVersion === version) return { status: 'ready' };
        const thisVersion = and(
          eq(lumaleasingDocumentVersions.documentId, documentId),
          eq(lumaleasingDocumentVersions.version, version),
        );
        // Another run went live with a newer version first: this one is history as soon as it finishes.
        if (document.currentVersion !== null && version < document.currentVersion) {
          await tx
            .update(lumaleasingDocumentVersions)
            .set({ status: 'superseded', finishedAt: sql`now()` })
            .where(thisVersion);
          await tx.delete(documents).where(versionRows(documentId, version));
          return { status: 'superseded' };
        }
        if (stored.status === 'failed') {
          throw ApplicationFailure.nonRetryable(
            `Version ${version} of document ${documentId} failed (${stored.error}); it cannot be published`,
            INGESTION_ERRORS.notPublishable,
          );
        }
        const [totals] = await tx
          .select({ total: count(), missing: sql<number>`count(*) filter (where ${documents.embedding} is null)::int` })
          .from(documents)
          .where(versionRows(documentId, version));
        const total = totals?.total ?? 0;
        if (total === 0 || (totals?.missing ?? 0) > 0) {
          throw ApplicationFailure.nonRetryable(
            `Version ${version} of document ${documentId} has ${total} chunks, ${totals?.missing ?? 0} without embeddings`,
            INGESTION_ERRORS.notPublishable,
          );
        }
        // The switch: match_documents joins on current_version, so every reader sees one version or the other.
        await tx
          .update(lumaleasingDocuments)
          .set({ currentVersion: version, updatedAt: sql`now()` })
          .where(eq(lumaleasingDocuments.id, documentId));
        await tx
          .update(lumaleasingDocumentVersions)
          .set({ status: 'ready', error: null, chunkCount: total, finishedAt: sql`now()` })
          .where(thisVersion);
        // Older versions are history; a failed one stays failed (it says what went wrong with that upload).
        await tx
          .update(lumaleasingDocumentVersions)
          .set({ status: 'superseded', finishedAt: sql`coalesce(${lumaleasingDocumentVersions.finishedAt}, now())` })
          .where(
            and(
              eq(lumaleasingDocumentVersions.documentId, documentId),
              lt(lumaleasingDocumentVersions.version, version),
              inArray(lumaleasingDocumentVersions.status, ['pending', 'processing', 'ready']),
            ),
          );
        await tx.delete(documents).where(and(eq(documents.documentId, documentId), lt(documents.version, version)));
        return { status: 'ready' };
      });
    },

    async markDocumentVersionFailed(input: MarkDocumentVersionFailedInput): Promise<{ status: string | null }> {
      const status = await withTenant(db, input.orgId, (tx) => markFailed(tx, input, input.reason));
      return { status };
    },
  };
}

export type LumaLeasingDocumentActivities = ReturnType<typeof createLumaLeasingDocumentActivities>;

/**
 * Deletes a document: its versions and chunk rows (vectors) go with it by cascade, in one statement, then its
 * stored files. Returns false when there was no such document in the organization. The caller cancels a
 * running ingestion; if one is still finishing, its writes find no rows.
 */
export async function deleteDocument(
  db: Database,
  storage: FileStorage,
  orgId: string,
  documentId: string,
): Promise<boolean> {
  const deleted = await withTenant(db, orgId, (tx) =>
    tx
      .delete(lumaleasingDocuments)
      .where(and(eq(lumaleasingDocuments.orgId, orgId), eq(lumaleasingDocuments.id, documentId)))
      .returning({ id: lumaleasingDocuments.id }),
  );
  // Files go even when the row was already gone: a retried delete finishes what the first one started.
  await storage.deletePrefix(documentStoragePrefix(orgId, documentId));
  return deleted.length > 0;
}
