/**
 * For the benchmark and the evaluation: stores an already chunked and embedded document as a ready, current
 * version in one transaction, as ingestion's publish step leaves it, without running the workflow (they measure
 * the pipeline's parts, not Temporal).
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Chunk } from '../activities/lumaleasing-text';
import type { Database } from '../db/client';
import {
  documents,
  lumaleasingDocuments,
  lumaleasingDocumentVersions,
  type DocumentContentType,
} from '../db/schema/lumaleasing';
import { withTenant } from '../db/tenancy';

export interface ReadyDocument {
  orgId: string;
  propertyId: string;
  filename: string;
  title: string;
  contentType: DocumentContentType;
  bytes: Uint8Array;
  chunks: Chunk[];
  /** One embedding per chunk, in order. */
  vectors: number[][];
  pages?: number | null;
  duplicateChunks?: number;
  /** Who "uploaded" it: also the prefix of its workflow id. */
  createdBy: string;
}

/** Returns the new document's id. Chunks go in batches of 100 rows, as the ingestion activity writes them. */
export async function insertReadyDocument(db: Database, doc: ReadyDocument): Promise<string> {
  const { orgId, propertyId } = doc;
  return withTenant(db, orgId, async (tx) => {
    const [row] = await tx
      .insert(lumaleasingDocuments)
      .values({
        orgId,
        propertyId,
        title: doc.title,
        filename: doc.filename,
        latestVersion: 1,
        createdBy: doc.createdBy,
      })
      .returning({ id: lumaleasingDocuments.id });
    const id = row!.id;
    await tx.insert(lumaleasingDocumentVersions).values({
      orgId,
      documentId: id,
      version: 1,
      contentType: doc.contentType,
      byteSize: doc.bytes.byteLength,
      sha256: createHash('sha256').update(doc.bytes).digest('hex'),
      storageKey: `documents/${orgId}/${id}/v1`,
      status: 'ready',
      pages: doc.pages ?? null,
      chunkCount: doc.chunks.length,
      duplicateChunks: doc.duplicateChunks ?? null,
      workflowId: `${doc.createdBy}/${id}`,
      createdBy: doc.createdBy,
      finishedAt: new Date(),
    });
    for (let i = 0; i < doc.chunks.length; i += 100) {
      await tx.insert(documents).values(
        doc.chunks.slice(i, i + 100).map((c, j) => ({
          orgId,
          propertyId,
          documentId: id,
          version: 1,
          chunkIndex: c.index,
          content: c.content,
          contentSha256: c.contentSha256,
          tokenCount: c.tokenCount,
          metadata: c.metadata,
          embedding: doc.vectors[i + j]!,
        })),
      );
    }
    // As publishDocumentVersion does: the version goes live in one statement.
    await tx.update(lumaleasingDocuments).set({ currentVersion: 1 }).where(eq(lumaleasingDocuments.id, id));
    return id;
  });
}
