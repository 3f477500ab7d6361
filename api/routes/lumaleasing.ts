import { WorkflowNotFoundError } from '@temporalio/client';
import { and, asc, desc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { deleteDocument } from '../../activities/lumaleasing-documents';
import { detectDocumentType } from '../../activities/lumaleasing-text';
import { recordAudit } from '../../db/audit';
import type { Transaction } from '../../db/client';
import {
  chatConversations,
  chatMessages,
  factLeads,
  lumaleasingDocuments,
  lumaleasingDocumentVersions,
  organizations,
  properties,
  type ChatConversation,
  type LeadContact,
  type LumaleasingDocument,
  type LumaleasingDocumentVersion,
} from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import { documentStorageKey } from '../../integrations/file-storage';
import { startWorkflowOnce, workflowUiUrl } from '../../temporal/client';
import {
  closeSignal,
  documentIngestionWorkflowId,
  handBackSignal,
  ingestionProgressQuery,
  LUMALEASING_PRODUCT,
  staffReplyUpdate,
  takeOverSignal,
  type DocumentIngestionInput,
  type DocumentIngestionResult,
  type IngestionProgress,
} from '../../workflows/lumaleasing';
import { actorOf, requireAuth, requirePermission, type AppContext, type AppDeps, type AppEnv } from '../context';
import { ApiError, badRequest, notFound } from '../errors';
import {
  BRAND_COLOR,
  CHAT_TONES,
  chatSettingsOf,
  conversationStart,
  presentMessage,
  publicChatLinks,
  storageOf,
  taskQueuesOf,
  updateConversation,
  type ConversationRef,
} from '../lumaleasing-shared';
import { requireJsonBody, validate } from '../validation';

type IngestionWorkflow = (input: DocumentIngestionInput) => Promise<DocumentIngestionResult>;

/** Room for the multipart framing around a file of the largest allowed size. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** How long a document's detail waits for the ingestion run to answer its progress query before leaving it out. */
const PROGRESS_QUERY_TIMEOUT_MS = 1_500;
const MAX_TRANSCRIPT = 2_000;

/**
 * The upload routes, which the app's global body limit lets through: they have their own, larger limit
 * (config.lumaleasing.maxUploadBytes) applied below.
 */
export function isDocumentUpload(method: string, path: string): boolean {
  if (method === 'POST') return path === '/v1/lumaleasing/documents';
  return method === 'PUT' && /^\/v1\/lumaleasing\/documents\/[^/]+\/file$/.test(path);
}

const documentsQuery = z.strictObject({ propertyId: z.uuid().optional() });
const conversationsQuery = z.strictObject({
  propertyId: z.uuid().optional(),
  status: z.enum(['open', 'closed']).optional(),
  mode: z.enum(['ai', 'staff']).optional(),
  unread: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The id of the last conversation of the previous page (keyset on last activity, id). */
  cursor: z.uuid().optional(),
});
const messagesQuery = z.strictObject({ after: z.coerce.number().int().min(-1).max(1_000_000_000).optional() });
const replyBody = z.strictObject({ text: z.string().trim().min(1, 'must not be empty').max(4000) });
const settingsBody = z
  .strictObject({
    enabled: z.boolean().optional(),
    botName: z.string().trim().min(1).max(60).nullable().optional(),
    greeting: z.string().trim().min(1).max(500).nullable().optional(),
    tone: z.enum(CHAT_TONES).optional(),
    brandColor: z.string().regex(BRAND_COLOR, 'must be a hex colour such as #1f6feb').nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'Nothing to change');
const uploadFields = z.strictObject({
  propertyId: z.uuid({ message: 'propertyId must be a property id (uuid)' }),
  title: z.string().trim().min(1).max(200).optional(),
});

function uuidParam(c: AppContext, name: string, what: string): string {
  const value = c.req.param(name);
  if (!value || !isUuid(value)) throw notFound(what);
  return value;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : `${+(n / 1024).toFixed(1)} KiB`;
}

function tooLarge(max: number) {
  return new ApiError(413, 'payload_too_large', `Documents may be at most ${formatBytes(max)} (${max} bytes)`, {
    maxBytes: max,
  });
}

/** The file's own name without any path a browser or client put in front of it. */
function cleanFilename(name: string): string | null {
  const base = name.split(/[\\/]/).pop()!.trim();
  // eslint-disable-next-line no-control-regex
  if (!base || base.length > 200 || /[\x00-\x1f\x7f]/.test(base) || base === '.' || base === '..') return null;
  return base;
}

function titleFromFilename(filename: string): string {
  const stem = filename.replace(/\.[A-Za-z0-9]{1,8}$/, '');
  return (stem || filename).replace(/[_-]+/g, ' ').trim().slice(0, 200) || filename;
}

interface ReceivedFile {
  filename: string;
  bytes: Uint8Array;
  contentType: NonNullable<ReturnType<typeof detectDocumentType>>;
  sha256: string;
}

/** Reads the multipart body and checks the file; throws the 4xx for every way it can be unusable. */
async function receiveUpload(
  c: AppContext,
  maxBytes: number,
  allowedFields: readonly string[],
): Promise<{ file: ReceivedFile; fields: Record<string, string> }> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (!type.startsWith('multipart/form-data')) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the document as multipart/form-data with the field "file"');
  }
  let form: Record<string, string | File | (string | File)[]>;
  try {
    form = await c.req.parseBody({ all: true });
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest('The multipart body could not be read');
  }
  const fields: Record<string, string> = {};
  let file: File | null = null;
  for (const [name, value] of Object.entries(form)) {
    if (Array.isArray(value)) throw badRequest(`Send "${name}" once`);
    if (name === 'file') {
      if (!(value instanceof File)) throw badRequest('"file" must be a file');
      file = value;
    } else if (!allowedFields.includes(name)) {
      throw badRequest(`Unknown field "${name}"`, { allowedFields: ['file', ...allowedFields] });
    } else if (typeof value !== 'string') {
      throw badRequest(`"${name}" must be a text field`);
    } else {
      fields[name] = value;
    }
  }
  if (!file) throw badRequest('Send the document as the multipart field "file"');
  if (file.size > maxBytes) throw tooLarge(maxBytes);
  const filename = cleanFilename(file.name || '');
  if (!filename) throw badRequest('The file needs a name (up to 200 characters), e.g. pet-policy.pdf');
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.byteLength === 0 || (!startsWithPdf(bytes) && isBlankText(bytes))) {
    throw new ApiError(422, 'empty_document', `${filename} is empty`);
  }
  const contentType = detectDocumentType(filename, bytes);
  if (!contentType) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      `${filename} is not a PDF, Markdown, plain-text or HTML document`,
      { accepted: ['.pdf', '.md', '.markdown', '.txt', '.html', '.htm'] },
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { file: { filename, bytes, contentType, sha256 }, fields };
}

function startsWithPdf(bytes: Uint8Array): boolean {
  return bytes.length >= 5 && Buffer.from(bytes.subarray(0, 5)).toString('latin1') === '%PDF-';
}

/** Whitespace only (a text file with nothing to index). Binary files are never "blank": type detection judges them. */
function isBlankText(bytes: Uint8Array): boolean {
  if (bytes.length > 64 * 1024) return false;
  return Buffer.from(bytes).toString('utf8').trim() === '';
}

function presentVersion(v: LumaleasingDocumentVersion) {
  return {
    version: v.version,
    status: v.status,
    error: v.error,
    pages: v.pages,
    chunkCount: v.chunkCount,
    duplicateChunks: v.duplicateChunks,
    contentType: v.contentType,
    byteSize: v.byteSize,
    sha256: v.sha256,
    workflowId: v.workflowId,
    createdBy: v.createdBy,
    createdAt: v.createdAt,
    finishedAt: v.finishedAt,
  };
}

function presentDocument(d: LumaleasingDocument, latest: LumaleasingDocumentVersion | null) {
  return {
    id: d.id,
    propertyId: d.propertyId,
    title: d.title,
    filename: d.filename,
    currentVersion: d.currentVersion,
    latestVersion: d.latestVersion,
    status: latest?.status ?? null,
    error: latest?.error ?? null,
    pages: latest?.pages ?? null,
    chunkCount: latest?.chunkCount ?? null,
    contentType: latest?.contentType ?? null,
    byteSize: latest?.byteSize ?? null,
    workflowId: latest?.workflowId ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** Mounted at /v1/lumaleasing: documents (upload, versions, delete), the conversation inbox, chat settings. */
export function createLumaLeasingRoutes(deps: AppDeps) {
  const storage = storageOf(deps);
  const maxUpload = deps.config.lumaleasing.maxUploadBytes;
  const now = deps.now ?? (() => new Date());
  const { uiUrl, namespace } = deps.config.temporal;
  const uiLink = (workflowId: string) => workflowUiUrl(uiUrl, namespace, workflowId);
  // The app-wide limit skips these routes (isDocumentUpload); this one is theirs.
  const uploadLimit = bodyLimit({
    maxSize: maxUpload + MULTIPART_OVERHEAD_BYTES,
    onError: () => {
      throw tooLarge(maxUpload);
    },
  });

  async function loadDocument(tx: Transaction, id: string, lock = false) {
    const query = tx.select().from(lumaleasingDocuments).where(eq(lumaleasingDocuments.id, id));
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw notFound('Document');
    return row;
  }

  async function latestVersions(tx: Transaction, docs: LumaleasingDocument[]) {
    const byDoc = new Map<string, LumaleasingDocumentVersion>();
    if (docs.length === 0) return byDoc;
    const rows = await tx
      .select()
      .from(lumaleasingDocumentVersions)
      .where(
        inArray(
          lumaleasingDocumentVersions.documentId,
          docs.map((d) => d.id),
        ),
      );
    const latest = new Map(docs.map((d) => [d.id, d.latestVersion]));
    for (const v of rows) if (latest.get(v.documentId) === v.version) byDoc.set(v.documentId, v);
    return byDoc;
  }

  /**
   * Stores the file as the document's next version and records it (one transaction: a failed write leaves no
   * row, a failed commit removes the file), then starts its ingestion run.
   */
  async function addVersion(
    c: AppContext,
    target: { documentId: string } | { propertyId: string; filename: string; title?: string },
    file: ReceivedFile,
  ) {
    const auth = requireAuth(c);
    const actor = actorOf(auth);
    let storedKey: string | null = null;
    let result: { document: LumaleasingDocument; version: LumaleasingDocumentVersion; created: boolean };
    try {
      result = await withTenant(deps.db, auth.orgId, async (tx) => {
        let document: LumaleasingDocument;
        let created = false;
        if ('documentId' in target) {
          document = await loadDocument(tx, target.documentId, true);
        } else {
          const [property] = await tx
            .select({ id: properties.id })
            .from(properties)
            .where(eq(properties.id, target.propertyId));
          if (!property) throw badRequest(`Unknown property: ${target.propertyId}`, { propertyId: target.propertyId });
          const [inserted] = await tx
            .insert(lumaleasingDocuments)
            .values({
              orgId: auth.orgId,
              propertyId: target.propertyId,
              title: target.title ?? titleFromFilename(target.filename),
              filename: target.filename,
              createdBy: actor.actorLabel,
            })
            .onConflictDoNothing({
              target: [lumaleasingDocuments.orgId, lumaleasingDocuments.propertyId, lumaleasingDocuments.filename],
            })
            .returning({ id: lumaleasingDocuments.id });
          created = Boolean(inserted);
          const [row] = await tx
            .select()
            .from(lumaleasingDocuments)
            .where(
              and(
                eq(lumaleasingDocuments.propertyId, target.propertyId),
                eq(lumaleasingDocuments.filename, target.filename),
              ),
            )
            .for('update');
          document = row!;
        }
        // The row lock above serialises concurrent uploads of one document, so versions never collide.
        const version = document.latestVersion + 1;
        const storageKey = documentStorageKey(auth.orgId, document.id, version);
        const [versionRow] = await tx
          .insert(lumaleasingDocumentVersions)
          .values({
            orgId: auth.orgId,
            documentId: document.id,
            version,
            contentType: file.contentType,
            byteSize: file.bytes.byteLength,
            sha256: file.sha256,
            storageKey,
            workflowId: documentIngestionWorkflowId(document.id, version),
            createdBy: actor.actorLabel,
          })
          .returning();
        const newTitle = !('documentId' in target) && !created ? target.title : undefined;
        const [updated] = await tx
          .update(lumaleasingDocuments)
          .set({ latestVersion: version, updatedAt: now(), ...(newTitle ? { title: newTitle } : {}) })
          .where(eq(lumaleasingDocuments.id, document.id))
          .returning();
        await recordAudit(tx, auth.orgId, actor, {
          action: created ? 'lumaleasing_document.create' : 'lumaleasing_document.upload',
          targetType: 'lumaleasing_document',
          targetId: document.id,
          details: { filename: file.filename, version, sha256: file.sha256, bytes: file.bytes.byteLength },
        });
        storedKey = storageKey;
        await storage.put(storageKey, file.bytes);
        return { document: updated!, version: versionRow!, created };
      });
    } catch (err) {
      if (storedKey) await storage.delete(storedKey).catch(() => {});
      throw err;
    }

    const { document, version } = result;
    try {
      await startWorkflowOnce<IngestionWorkflow>(deps.temporal, 'documentIngestionWorkflow', {
        workflowId: version.workflowId,
        taskQueue: taskQueuesOf(deps).ingest,
        args: [
          { orgId: auth.orgId, propertyId: document.propertyId, documentId: document.id, version: version.version },
        ],
        labels: { orgId: auth.orgId, product: LUMALEASING_PRODUCT, propertyId: document.propertyId },
        summary: `Ingest "${document.title}" v${version.version} (${file.filename}, ${formatBytes(file.bytes.byteLength)})`,
      });
    } catch (err) {
      // No run will ever ingest this version: say so on the version rather than leave it pending forever.
      await withTenant(deps.db, auth.orgId, (tx) =>
        tx
          .update(lumaleasingDocumentVersions)
          .set({ status: 'failed', error: `Could not start ingestion: ${(err as Error).message}`, finishedAt: now() })
          .where(
            and(
              eq(lumaleasingDocumentVersions.documentId, document.id),
              eq(lumaleasingDocumentVersions.version, version.version),
            ),
          ),
      );
      throw err;
    }
    return c.json(
      {
        document: presentDocument(document, version),
        version: presentVersion(version),
        workflowId: version.workflowId,
        workflowUrl: uiLink(version.workflowId),
      },
      202,
    );
  }

  async function progressOf(workflowId: string): Promise<IngestionProgress | null> {
    try {
      const handle = deps.temporal.workflow.getHandle(workflowId);
      const run = await handle.describe();
      // Only a run a worker has picked up can answer; asking one that never ran would wait out the deadline.
      if (run.status.name !== 'RUNNING' || run.historyLength <= 2) return null;
      return await deps.temporal.withDeadline(Date.now() + PROGRESS_QUERY_TIMEOUT_MS, () =>
        handle.query(ingestionProgressQuery),
      );
    } catch {
      return null;
    }
  }

  // ── Conversations ────────────────────────────────────────────────────────────────────────────────────

  const activity = sql`coalesce(${chatConversations.lastMessageAt}, ${chatConversations.createdAt})`;

  async function conversationViews(tx: Transaction, where: SQL | undefined, limit: number) {
    const rows = await tx
      .select({
        conversation: chatConversations,
        propertyName: properties.name,
        leadCiphertext: factLeads.contactCiphertext,
      })
      .from(chatConversations)
      .innerJoin(properties, eq(properties.id, chatConversations.propertyId))
      .leftJoin(factLeads, eq(factLeads.id, chatConversations.leadId))
      .where(where)
      .orderBy(desc(activity), desc(chatConversations.id))
      .limit(limit);
    return rows.map((r) => presentConversation(r.conversation, r.propertyName, r.leadCiphertext));
  }

  function leadNameOf(ciphertext: string | null): string | null {
    if (!ciphertext) return null;
    try {
      return (JSON.parse(deps.encryptor.decrypt(ciphertext)) as LeadContact).name ?? null;
    } catch {
      return null;
    }
  }

  function presentConversation(c: ChatConversation, propertyName: string, leadCiphertext: string | null) {
    return {
      id: c.id,
      propertyId: c.propertyId,
      propertyName,
      status: c.status,
      mode: c.mode,
      takenOverByName: c.takenOverByName,
      takenOverAt: c.takenOverAt,
      channel: c.channel,
      pageUrl: c.pageUrl,
      leadId: c.leadId,
      leadName: leadNameOf(leadCiphertext),
      messageCount: c.messageCount,
      unreadCount: c.unreadCount,
      lastMessageAt: c.lastMessageAt,
      lastMessagePreview: c.lastMessagePreview,
      createdAt: c.createdAt,
      closedAt: c.closedAt,
      workflowId: c.workflowId,
      workflowUrl: uiLink(c.workflowId),
    };
  }

  async function loadConversation(tx: Transaction, id: string) {
    const [view] = await conversationViews(tx, eq(chatConversations.id, id), 1);
    if (!view) throw notFound('Conversation');
    return view;
  }

  function staffOf(c: AppContext) {
    const auth = requireAuth(c);
    const p = auth.principal;
    return p.kind === 'user'
      ? { userId: p.userId, name: p.name, author: p.email }
      : { userId: p.apiKeyId, name: p.name, author: `api-key:${p.prefix}` };
  }

  /** Signals the open run; with none open there is nothing to tell (the next run reads the database). */
  async function signalIfRunning(workflowId: string, send: (h: ReturnType<typeof getHandle>) => Promise<void>) {
    try {
      await send(getHandle(workflowId));
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  const getHandle = (workflowId: string) => deps.temporal.workflow.getHandle(workflowId);

  const refOf = (orgId: string, view: { id: string; propertyId: string; propertyName: string }): ConversationRef => ({
    orgId,
    propertyId: view.propertyId,
    conversationId: view.id,
    propertyName: view.propertyName,
  });

  return (
    new Hono<AppEnv>()
      // ── Documents ──
      .post('/documents', requirePermission('lumaleasing:write'), uploadLimit, async (c) => {
        const { file, fields } = await receiveUpload(c, maxUpload, ['propertyId', 'title']);
        const parsed = uploadFields.safeParse(fields);
        if (!parsed.success) {
          throw badRequest(
            parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
            parsed.error.issues,
          );
        }
        return addVersion(
          c,
          { propertyId: parsed.data.propertyId, filename: file.filename, title: parsed.data.title },
          file,
        );
      })

      .put('/documents/:documentId/file', requirePermission('lumaleasing:write'), uploadLimit, async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'documentId', 'Document');
        // Existence first, so another organization's id is a 404 whatever the body.
        await withTenant(deps.db, auth.orgId, (tx) => loadDocument(tx, id));
        const { file } = await receiveUpload(c, maxUpload, []);
        return addVersion(c, { documentId: id }, file);
      })

      .get('/documents', requirePermission('lumaleasing:read'), validate('query', documentsQuery), async (c) => {
        const auth = requireAuth(c);
        const { propertyId } = c.req.valid('query');
        const documents = await withTenant(deps.db, auth.orgId, async (tx) => {
          const docs = await tx
            .select()
            .from(lumaleasingDocuments)
            .where(propertyId ? eq(lumaleasingDocuments.propertyId, propertyId) : undefined)
            .orderBy(asc(lumaleasingDocuments.title), asc(lumaleasingDocuments.id));
          const latest = await latestVersions(tx, docs);
          return docs.map((d) => presentDocument(d, latest.get(d.id) ?? null));
        });
        return c.json({ documents });
      })

      .get('/documents/:documentId', requirePermission('lumaleasing:read'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'documentId', 'Document');
        const { document, versions } = await withTenant(deps.db, auth.orgId, async (tx) => {
          const doc = await loadDocument(tx, id);
          const rows = await tx
            .select()
            .from(lumaleasingDocumentVersions)
            .where(eq(lumaleasingDocumentVersions.documentId, id))
            .orderBy(desc(lumaleasingDocumentVersions.version));
          return { document: doc, versions: rows };
        });
        const latest = versions.find((v) => v.version === document.latestVersion) ?? null;
        const progress =
          latest && (latest.status === 'pending' || latest.status === 'processing')
            ? await progressOf(latest.workflowId)
            : null;
        return c.json({
          document: presentDocument(document, latest),
          versions: versions.map(presentVersion),
          progress,
        });
      })

      .delete('/documents/:documentId', requirePermission('lumaleasing:write'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'documentId', 'Document');
        const { document, running } = await withTenant(deps.db, auth.orgId, async (tx) => {
          const doc = await loadDocument(tx, id);
          const rows = await tx
            .select({ workflowId: lumaleasingDocumentVersions.workflowId })
            .from(lumaleasingDocumentVersions)
            .where(
              and(
                eq(lumaleasingDocumentVersions.documentId, id),
                inArray(lumaleasingDocumentVersions.status, ['pending', 'processing']),
              ),
            );
          return { document: doc, running: rows.map((r) => r.workflowId) };
        });
        // Runs first: an ingestion still embedding would otherwise write chunks of a document that is gone.
        for (const workflowId of running) {
          await signalIfRunning(workflowId, (h) => h.cancel().then(() => undefined));
        }
        await deleteDocument(deps.db, storage, auth.orgId, id);
        await withTenant(deps.db, auth.orgId, (tx) =>
          recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'lumaleasing_document.delete',
            targetType: 'lumaleasing_document',
            targetId: id,
            details: { filename: document.filename, propertyId: document.propertyId, cancelledRuns: running },
          }),
        );
        return c.body(null, 204);
      })

      // ── Conversations ──
      .get(
        '/conversations',
        requirePermission('lumaleasing:read'),
        validate('query', conversationsQuery),
        async (c) => {
          const auth = requireAuth(c);
          const q = c.req.valid('query');
          const page = await withTenant(deps.db, auth.orgId, (tx) =>
            conversationViews(
              tx,
              and(
                q.propertyId ? eq(chatConversations.propertyId, q.propertyId) : undefined,
                q.status ? eq(chatConversations.status, q.status) : undefined,
                q.mode ? eq(chatConversations.mode, q.mode) : undefined,
                q.unread === 'true' ? gt(chatConversations.unreadCount, 0) : undefined,
                q.unread === 'false' ? eq(chatConversations.unreadCount, 0) : undefined,
                // An unknown cursor (or another organization's, invisible here) compares with null: an empty page.
                q.cursor
                  ? sql`(${activity}, ${chatConversations.id}) < (select coalesce(x.last_message_at, x.created_at), x.id from chat_conversations x where x.id = ${q.cursor})`
                  : undefined,
              ),
              q.limit + 1,
            ),
          );
          const conversations = page.slice(0, q.limit);
          return c.json({
            conversations,
            nextCursor: page.length > q.limit ? conversations[conversations.length - 1]!.id : null,
          });
        },
      )

      .get('/conversations/:conversationId', requirePermission('lumaleasing:read'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'conversationId', 'Conversation');
        const result = await withTenant(deps.db, auth.orgId, async (tx) => {
          const conversation = await loadConversation(tx, id);
          const messages = await tx
            .select()
            .from(chatMessages)
            .where(eq(chatMessages.conversationId, id))
            .orderBy(asc(chatMessages.seq))
            .limit(MAX_TRANSCRIPT);
          return { conversation, messages: messages.map(presentMessage) };
        });
        return c.json(result);
      })

      .get(
        '/conversations/:conversationId/messages',
        requirePermission('lumaleasing:read'),
        validate('query', messagesQuery),
        async (c) => {
          const auth = requireAuth(c);
          const id = uuidParam(c, 'conversationId', 'Conversation');
          const { after } = c.req.valid('query');
          const messages = await withTenant(deps.db, auth.orgId, async (tx) => {
            await loadConversation(tx, id);
            return tx
              .select()
              .from(chatMessages)
              .where(
                and(eq(chatMessages.conversationId, id), after !== undefined ? gt(chatMessages.seq, after) : undefined),
              )
              .orderBy(asc(chatMessages.seq))
              .limit(MAX_TRANSCRIPT);
          });
          return c.json({ messages: messages.map(presentMessage) });
        },
      )

      .post('/conversations/:conversationId/take-over', requirePermission('lumaleasing:reply'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'conversationId', 'Conversation');
        const staff = staffOf(c);
        const view = await withTenant(deps.db, auth.orgId, (tx) => loadConversation(tx, id));
        // Signal-with-start: staff may take over a conversation whose run idled out, to write to the visitor.
        const start = conversationStart(deps, refOf(auth.orgId, view));
        await deps.temporal.workflow.signalWithStart('conversationWorkflow', {
          workflowId: start.workflowId,
          taskQueue: start.taskQueue,
          args: start.args,
          typedSearchAttributes: start.typedSearchAttributes,
          memo: start.memo,
          staticSummary: start.staticSummary,
          signal: takeOverSignal,
          signalArgs: [{ userId: staff.userId, name: staff.name }],
        });
        // Mirrored now, so the inbox (and the visitor's next poll) shows it before the workflow's activity runs.
        const conversation = await withTenant(deps.db, auth.orgId, async (tx) => {
          await tx
            .update(chatConversations)
            .set({ mode: 'staff', takenOverBy: staff.userId, takenOverByName: staff.name, takenOverAt: now() })
            .where(eq(chatConversations.id, id));
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'lumaleasing_conversation.take_over',
            targetType: 'chat_conversation',
            targetId: id,
          });
          return loadConversation(tx, id);
        });
        return c.json({ conversation });
      })

      .post('/conversations/:conversationId/hand-back', requirePermission('lumaleasing:reply'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'conversationId', 'Conversation');
        const staff = staffOf(c);
        const view = await withTenant(deps.db, auth.orgId, (tx) => loadConversation(tx, id));
        await signalIfRunning(view.workflowId, (h) => h.signal(handBackSignal, { userId: staff.userId }));
        const conversation = await withTenant(deps.db, auth.orgId, async (tx) => {
          await tx
            .update(chatConversations)
            .set({ mode: 'ai', takenOverBy: null, takenOverByName: null, takenOverAt: null })
            .where(eq(chatConversations.id, id));
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'lumaleasing_conversation.hand_back',
            targetType: 'chat_conversation',
            targetId: id,
          });
          return loadConversation(tx, id);
        });
        return c.json({ conversation });
      })

      .post('/conversations/:conversationId/close', requirePermission('lumaleasing:reply'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'conversationId', 'Conversation');
        const view = await withTenant(deps.db, auth.orgId, (tx) => loadConversation(tx, id));
        await signalIfRunning(view.workflowId, (h) => h.signal(closeSignal));
        const conversation = await withTenant(deps.db, auth.orgId, async (tx) => {
          await tx
            .update(chatConversations)
            .set({ status: 'closed', closedAt: now() })
            .where(and(eq(chatConversations.id, id), eq(chatConversations.status, 'open')));
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'lumaleasing_conversation.close',
            targetType: 'chat_conversation',
            targetId: id,
          });
          return loadConversation(tx, id);
        });
        return c.json({ conversation });
      })

      .post(
        '/conversations/:conversationId/replies',
        requirePermission('lumaleasing:reply'),
        requireJsonBody(),
        validate('json', replyBody),
        async (c) => {
          const auth = requireAuth(c);
          const id = uuidParam(c, 'conversationId', 'Conversation');
          const { text } = c.req.valid('json');
          const staff = staffOf(c);
          const view = await withTenant(deps.db, auth.orgId, (tx) => loadConversation(tx, id));
          if (view.mode !== 'staff') throw notTakenOver();
          let message;
          try {
            message = await updateConversation(deps.temporal, deps, refOf(auth.orgId, view), staffReplyUpdate, [
              { ...staff, text },
            ]);
          } catch (err) {
            // The workflow's validator is the authority on the mode (a hand-back may have just landed).
            if ((err as Error).name === 'WorkflowUpdateFailedError') throw notTakenOver(err as Error);
            throw err;
          }
          return c.json({ message }, 201);
        },
      )

      .post('/conversations/:conversationId/read', requirePermission('lumaleasing:reply'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'conversationId', 'Conversation');
        await withTenant(deps.db, auth.orgId, async (tx) => {
          const [row] = await tx
            .update(chatConversations)
            .set({ unreadCount: 0 })
            .where(eq(chatConversations.id, id))
            .returning({ id: chatConversations.id });
          if (!row) throw notFound('Conversation');
        });
        return c.body(null, 204);
      })

      // ── Settings ──
      .get('/properties/:propertyId/settings', requirePermission('lumaleasing:read'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'propertyId', 'Property');
        const view = await withTenant(deps.db, auth.orgId, (tx) => settingsView(tx, id));
        return c.json(view);
      })

      .put(
        '/properties/:propertyId/settings',
        requirePermission('lumaleasing:write'),
        requireJsonBody(),
        validate('json', settingsBody),
        async (c) => {
          const auth = requireAuth(c);
          const id = uuidParam(c, 'propertyId', 'Property');
          const changes = c.req.valid('json');
          const view = await withTenant(deps.db, auth.orgId, async (tx) => {
            const [property] = await tx
              .select({ settings: properties.settings })
              .from(properties)
              .where(eq(properties.id, id))
              .for('update');
            if (!property) throw notFound('Property');
            const current = property.settings ?? {};
            const previous = (
              current.lumaleasing && typeof current.lumaleasing === 'object' ? current.lumaleasing : {}
            ) as Record<string, unknown>;
            await tx
              .update(properties)
              .set({ settings: { ...current, lumaleasing: { ...previous, ...changes } }, updatedAt: now() })
              .where(eq(properties.id, id));
            await recordAudit(tx, auth.orgId, actorOf(auth), {
              action: 'lumaleasing_settings.update',
              targetType: 'property',
              targetId: id,
              details: { changes },
            });
            return settingsView(tx, id);
          });
          return c.json(view);
        },
      )
  );

  async function settingsView(tx: Transaction, propertyId: string) {
    const [row] = await tx
      .select({ property: properties, orgSlug: organizations.slug })
      .from(properties)
      .innerJoin(organizations, eq(organizations.id, properties.orgId))
      .where(eq(properties.id, propertyId));
    if (!row) throw notFound('Property');
    return { settings: chatSettingsOf(row.property), ...publicChatLinks(deps.config, row.orgSlug, row.property) };
  }
}

function notTakenOver(cause?: Error) {
  return new ApiError(
    409,
    'not_taken_over',
    'Take the conversation over before replying: the assistant is answering it',
    cause ? { reason: (cause.cause as Error | undefined)?.message ?? cause.message } : null,
  );
}
