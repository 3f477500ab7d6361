import {
  CONTENT_TYPE_LABELS,
  DocStatusBadge,
  formatBytes,
  LumaTabs,
  PropertyPicker,
  type DocumentView,
  type IngestionProgress,
} from './lumaleasing-common';
import { can, EmptyState, FormError, PageHeader, TemporalLink, Time, type Me } from './shared';

const ACCEPT = '.pdf,.md,.markdown,.txt,.html,.htm,application/pdf,text/markdown,text/plain,text/html';

const STAGE_LABELS: Record<string, string> = {
  extracting: 'Extracting text',
  embedding: 'Embedding',
  publishing: 'Publishing',
  ready: 'Ready',
  failed: 'Failed',
  superseded: 'Superseded',
};

/** What the progress line says; admin.js (progressText) writes the same while it polls. */
export function progressText(progress: IngestionProgress | null | undefined): string {
  if (!progress) return 'Waiting for the ingestion worker…';
  const stage = STAGE_LABELS[progress.stage] ?? progress.stage;
  const parts = [stage];
  if (progress.pages !== null) parts.push(`${progress.pages} page${progress.pages === 1 ? '' : 's'}`);
  if (progress.chunksTotal !== null)
    parts.push(`${progress.chunksEmbedded} of ${progress.chunksTotal} chunks embedded`);
  return parts.join(' · ');
}

function progressPercent(progress: IngestionProgress | null | undefined): number | null {
  if (!progress || !progress.chunksTotal) return null;
  return Math.min(100, Math.round((progress.chunksEmbedded / progress.chunksTotal) * 100));
}

function UploadForm({ propertyId, maxUploadBytes }: { propertyId: string; maxUploadBytes: number }) {
  return (
    <form
      class="form card upload-form"
      data-api-form=""
      data-multipart=""
      data-method="POST"
      data-url="/v1/lumaleasing/documents"
      data-then="flash-reload:Uploaded; ingestion has started"
      data-upload-form=""
    >
      <input type="hidden" name="propertyId" value={propertyId} />
      <div class="form-row form-row-end">
        <label class="field grow">
          <span>
            Document <span class="muted">(PDF, Markdown, text or HTML; up to {formatBytes(maxUploadBytes)})</span>
          </span>
          <input type="file" name="file" accept={ACCEPT} required data-max-bytes={String(maxUploadBytes)} />
        </label>
        <label class="field grow">
          <span>
            Title <span class="muted">(optional; shown in citations, defaults to the file name)</span>
          </span>
          <input type="text" name="title" maxlength={200} placeholder="Pet Policy" />
        </label>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary">
            Upload
          </button>
        </div>
      </div>
      <p class="muted small hint">
        Uploading a file with the same name as an existing document makes it a new version; the chat switches to it once
        it is fully processed.
      </p>
      <FormError />
    </form>
  );
}

function DocumentRow({
  doc,
  progress,
  canWrite,
  temporalUiUrl,
  maxUploadBytes,
}: {
  doc: DocumentView;
  progress: IngestionProgress | null;
  canWrite: boolean;
  temporalUiUrl: string | null;
  maxUploadBytes: number;
}) {
  const running = doc.status === 'pending' || doc.status === 'processing';
  const percent = progressPercent(progress);
  const url = `/v1/lumaleasing/documents/${encodeURIComponent(doc.id)}`;
  const serving =
    doc.currentVersion !== null && doc.currentVersion !== doc.latestVersion
      ? `v${doc.currentVersion} answers questions until v${doc.latestVersion} is ready`
      : null;
  return (
    <tr data-document-id={doc.id} data-document-url={running ? url : undefined} data-status={doc.status}>
      <td class="cell-name">
        <strong data-cell="title">{doc.title}</strong>
        <div class="muted small">
          <code class="url">{doc.filename}</code>
        </div>
      </td>
      <td class="cell-status">
        <span data-cell="status">
          <DocStatusBadge status={doc.status} />
        </span>
        <div class="doc-progress" data-cell="progress" hidden={!running}>
          {percent === null ? (
            <progress class="progress" max={100} data-progress-bar="" aria-label="Ingestion progress"></progress>
          ) : (
            <progress
              class="progress"
              max={100}
              value={String(percent)}
              data-progress-bar=""
              aria-label="Ingestion progress"
            ></progress>
          )}
          <div class="muted small" data-progress-text="">
            {running ? progressText(progress) : ''}
          </div>
        </div>
        <div class="small danger-text" data-cell="error" hidden={!doc.error}>
          {doc.error ?? ''}
        </div>
        {serving ? <div class="muted small">{serving}</div> : null}
      </td>
      <td class="nowrap" data-cell="version">
        v{doc.latestVersion}
      </td>
      <td class="right" data-cell="pages">
        {doc.pages ?? '—'}
      </td>
      <td class="right" data-cell="chunks">
        {doc.chunkCount ?? '—'}
      </td>
      <td class="nowrap">
        {doc.contentType ? (CONTENT_TYPE_LABELS[doc.contentType] ?? doc.contentType) : '—'}
        <div class="muted small">{formatBytes(doc.byteSize)}</div>
      </td>
      <td class="nowrap">
        <Time value={doc.updatedAt} />
      </td>
      <td class="right">
        <div class="actions doc-actions">
          {temporalUiUrl ? <TemporalLink href={temporalUiUrl} /> : null}
          {canWrite ? (
            <>
              <button type="button" class="btn btn-sm" data-open-dialog={`#replace-${doc.id}`} data-replace="">
                Replace
              </button>
              <dialog class="modal" id={`replace-${doc.id}`} aria-labelledby={`replace-title-${doc.id}`}>
                <form
                  class="form"
                  data-api-form=""
                  data-multipart=""
                  data-method="PUT"
                  data-url={`${url}/file`}
                  data-then={`flash-reload:New version of “${doc.title}” uploaded; ingestion has started`}
                  data-replace-form=""
                >
                  <h2 id={`replace-title-${doc.id}`}>Replace “{doc.title}”</h2>
                  <p class="muted small">
                    The new file becomes version {doc.latestVersion + 1}. The assistant keeps answering from the current
                    version until the new one is fully processed, then switches in one step.
                  </p>
                  <label class="field">
                    <span>New file</span>
                    <input type="file" name="file" accept={ACCEPT} required data-max-bytes={String(maxUploadBytes)} />
                  </label>
                  <FormError />
                  <div class="form-actions">
                    <button type="button" class="btn" data-close-dialog="">
                      Cancel
                    </button>
                    <button type="submit" class="btn btn-primary">
                      Upload new version
                    </button>
                  </div>
                </form>
              </dialog>
              <button
                type="button"
                class="btn btn-sm btn-danger"
                data-api-action=""
                data-method="DELETE"
                data-url={url}
                data-confirm={`Delete “${doc.title}”? The chat stops using it immediately and its file is removed.`}
                data-then={`flash-reload:Deleted “${doc.title}”`}
                data-delete-document=""
              >
                Delete
              </button>
            </>
          ) : null}
        </div>
      </td>
    </tr>
  );
}

export function DocumentsPage({
  me,
  property,
  documents,
  progress,
  maxUploadBytes,
  uiLink,
}: {
  me: Me;
  property: { id: string; name: string } | null;
  documents: DocumentView[];
  progress: Map<string, IngestionProgress | null>;
  maxUploadBytes: number;
  uiLink: (workflowId: string) => string;
}) {
  const canWrite = can(me, 'lumaleasing:write');
  return (
    <section data-page="lumaleasing-documents" data-property-id={property?.id ?? ''}>
      <PageHeader
        title="LumaLeasing"
        subtitle="The documents the leasing assistant answers from. Every answer cites the document and page it used."
        actions={
          property ? <PropertyPicker me={me} action="/admin/lumaleasing/documents" selected={property.id} /> : null
        }
      />
      <LumaTabs active="documents" />
      {!property ? (
        <EmptyState title="No properties">Add a property first; documents belong to one property.</EmptyState>
      ) : (
        <>
          {canWrite ? <UploadForm propertyId={property.id} maxUploadBytes={maxUploadBytes} /> : null}
          <h2 class="section-title">
            Documents for <span data-property-name="">{property.name}</span>
          </h2>
          {documents.length === 0 ? (
            <EmptyState title="No documents yet">
              {canWrite
                ? 'Upload the pet policy, fee sheet, parking rules or a brochure. Until then the assistant declines every question and gives the office’s contact.'
                : 'An administrator can upload the property’s documents.'}
            </EmptyState>
          ) : (
            <div class="table-wrap">
              <table class="table" data-table="documents">
                <thead>
                  <tr>
                    <th>Document</th>
                    <th>Status</th>
                    <th>Version</th>
                    <th class="right">Pages</th>
                    <th class="right">Chunks</th>
                    <th>Type</th>
                    <th>Updated</th>
                    <th class="right"></th>
                  </tr>
                </thead>
                <tbody>
                  {documents.map((d) => (
                    <DocumentRow
                      doc={d}
                      progress={progress.get(d.id) ?? null}
                      canWrite={canWrite}
                      temporalUiUrl={d.workflowId ? uiLink(d.workflowId) : null}
                      maxUploadBytes={maxUploadBytes}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
