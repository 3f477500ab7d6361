/**
 * Ingests one uploaded version of a LumaLeasing document: extract and chunk the file, embed the chunks in
 * batches (a few at once), then publish the version, which switches retrieval to it in one transaction. A
 * file that cannot be read ends the run as `failed` with the reason staff see; it is never retried, because
 * the same bytes fail the same way.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  rootCause,
  setHandler,
} from '@temporalio/workflow';
import type { LumaLeasingDocumentActivities } from '../activities/lumaleasing-documents';
import {
  ingestionProgressQuery,
  type DocumentIngestionInput,
  type DocumentIngestionResult,
  type IngestionProgress,
} from './lumaleasing';

/** Chunks per embedding call: small enough to heartbeat often, large enough to amortise the round trip. */
export const DEFAULT_EMBED_BATCH_SIZE = 64;
export const MAX_EMBED_BATCH_SIZE = 512;
/** Embedding calls in flight at once per document: faster ingestion without tripping the provider's rate limit. */
export const EMBED_CONCURRENCY = 4;

// Activity failure types (activities/lumaleasing-documents.ts INGESTION_ERRORS; workflows may not import values
// from activities/, so the names are repeated here).
const UNREADABLE = 'DocumentUnreadable';
const FILE_MISSING = 'DocumentFileMissing';
const NOT_FOUND = 'DocumentNotFound';

// Parsing a large PDF is CPU work of seconds to minutes; a crashed worker or a database blip is worth a few
// more tries, a file that cannot be read (thrown non-retryable by the activity) is not.
const extraction = proxyActivities<LumaLeasingDocumentActivities>({
  startToCloseTimeout: '10m',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [UNREADABLE, FILE_MISSING, NOT_FOUND],
  },
});

// Embedding providers rate-limit and have outages that pass: back off for a long while before giving up. The
// heartbeat timeout notices a dead worker long before the start-to-close timeout would.
const embedding = proxyActivities<LumaLeasingDocumentActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 12,
    nonRetryableErrorTypes: ['EmbeddingRejected', 'EmbeddingInvalid', NOT_FOUND],
  },
});

// Short database transactions: transient errors retry until they pass; the activities throw non-retryable for
// states no retry can change (the document is gone, the version is not publishable).
const database = proxyActivities<LumaLeasingDocumentActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20 },
});

function message(err: unknown): string {
  if (err instanceof Error) return (rootCause(err) ?? err.message).slice(0, 1000);
  return String(err);
}

/** The ApplicationFailure types along a failure's cause chain (activity → application). */
function failureTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = (e as Error).cause) {
    if (e instanceof ApplicationFailure && e.type) types.push(e.type);
  }
  return types;
}

export async function documentIngestionWorkflow(input: DocumentIngestionInput): Promise<DocumentIngestionResult> {
  const ref = { orgId: input.orgId, documentId: input.documentId, version: input.version };
  // Capped so one activity (and a retry of it) stays short and heartbeats often enough.
  const batchSize = Math.min(
    MAX_EMBED_BATCH_SIZE,
    Math.max(1, Math.floor(input.embedBatchSize ?? DEFAULT_EMBED_BATCH_SIZE)),
  );
  const progress: IngestionProgress = {
    stage: 'extracting',
    pages: null,
    chunksTotal: null,
    chunksEmbedded: 0,
    duplicateChunks: null,
    error: null,
  };
  setHandler(ingestionProgressQuery, () => progress);

  const failed = (error: string): DocumentIngestionResult => {
    progress.stage = 'failed';
    progress.error = error;
    return {
      status: 'failed',
      pages: progress.pages,
      chunks: progress.chunksTotal ?? 0,
      duplicateChunks: progress.duplicateChunks ?? 0,
      error,
    };
  };

  /** Records the failure on the version (even while the run is being cancelled). */
  const recordFailure = (reason: string) =>
    CancellationScope.nonCancellable(() => database.markDocumentVersionFailed({ ...ref, reason }));

  let extracted;
  try {
    extracted = await extraction.extractDocumentChunks(ref);
  } catch (err) {
    if (isCancellation(err)) {
      await recordFailure('Ingestion was cancelled.');
      throw err;
    }
    const types = failureTypes(err);
    // The activity already marked the version failed with the reason for these.
    if (!types.includes(UNREADABLE) && !types.includes(FILE_MISSING)) {
      await recordFailure(`Extraction failed: ${message(err)}`);
    }
    return failed(message(err));
  }
  progress.pages = extracted.pages;
  progress.chunksTotal = extracted.chunks;
  progress.duplicateChunks = extracted.duplicateChunks;

  progress.stage = 'embedding';
  const batches: number[] = [];
  for (let from = 0; from < extracted.chunks; from += batchSize) batches.push(from);
  const embeddedByBatch = new Map<number, number>();
  let firstError: unknown = null;
  const runBatch = async (fromIndex: number) => {
    try {
      const { embedded } = await embedding.embedDocumentChunks({ ...ref, fromIndex, count: batchSize });
      embeddedByBatch.set(fromIndex, embedded);
      progress.chunksEmbedded = [...embeddedByBatch.values()].reduce((a, b) => a + b, 0);
    } catch (err) {
      firstError ??= err;
    }
  };
  // Bounded concurrency; after a failure no new batch starts, and the ones in flight are waited for, so
  // nothing writes to the version after it is marked failed.
  const inFlight = new Set<Promise<void>>();
  for (const from of batches) {
    if (firstError) break;
    while (inFlight.size >= EMBED_CONCURRENCY) await Promise.race(inFlight);
    if (firstError) break;
    const run: Promise<void> = runBatch(from).finally(() => inFlight.delete(run));
    inFlight.add(run);
  }
  await Promise.all(inFlight);
  if (firstError) {
    if (isCancellation(firstError)) {
      await recordFailure('Ingestion was cancelled.');
      throw firstError;
    }
    const reason = `Embedding failed: ${message(firstError)}`;
    await recordFailure(reason);
    return failed(reason);
  }

  progress.stage = 'publishing';
  let published;
  try {
    published = await database.publishDocumentVersion(ref);
  } catch (err) {
    if (isCancellation(err)) {
      await recordFailure('Ingestion was cancelled.');
      throw err;
    }
    const reason = `Publishing failed: ${message(err)}`;
    await recordFailure(reason);
    return failed(reason);
  }
  progress.stage = published.status;
  return {
    status: published.status,
    pages: progress.pages,
    chunks: progress.chunksTotal ?? 0,
    duplicateChunks: progress.duplicateChunks ?? 0,
    error: null,
  };
}
