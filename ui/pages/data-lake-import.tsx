import { formatCount, type ImportView } from './data-lake-common';
import { EmptyState, PageHeader, StatusBadge, Time } from './shared';

export function ImportPage({ record, temporalUiUrl }: { record: ImportView; temporalUiUrl: string }) {
  const pending = record.status === 'pending' || record.status === 'running';
  return (
    <section data-page="data-lake-import" data-import-id={record.id}>
      <p class="breadcrumb">
        <a href="/admin/data-lake">Data Lake</a> / <a href="/admin/data-lake#imports">CRM imports</a> /
      </p>
      <PageHeader
        title={`Import of ${record.filename}`}
        subtitle={<code class="mono">{record.id}</code>}
        actions={
          pending ? (
            <span class="muted small" data-reload-after="3000">
              Importing… this page refreshes until it finishes.
            </span>
          ) : null
        }
      />
      <dl class="facts card">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={record.status} />
            {record.error ? <div class="small danger-text">{record.error}</div> : null}
          </dd>
        </div>
        <div>
          <dt>Format</dt>
          <dd>{record.format ?? <span class="muted">not detected yet</span>}</dd>
        </div>
        <div>
          <dt>Rows in file</dt>
          <dd data-rows-total="">{formatCount(record.rowsTotal)}</dd>
        </div>
        <div>
          <dt>Imported</dt>
          <dd data-rows-imported="">{formatCount(record.rowsImported)}</dd>
        </div>
        <div>
          <dt>Already imported (duplicates)</dt>
          <dd data-rows-duplicate="">{formatCount(record.rowsDuplicate)}</dd>
        </div>
        <div>
          <dt>Rows with errors</dt>
          <dd data-row-error-count="">{formatCount(record.rowErrors.length)}</dd>
        </div>
        <div>
          <dt>Uploaded</dt>
          <dd>
            <Time value={record.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>
            <Time value={record.finishedAt} empty="not yet" />
          </dd>
        </div>
        <div>
          <dt>Workflow</dt>
          <dd>
            <a href={temporalUiUrl} target="_blank" rel="noopener noreferrer" data-temporal-link="">
              <code>{record.workflowId}</code> ↗
            </a>
          </dd>
        </div>
      </dl>

      <h2 class="section-title">Row errors</h2>
      {record.rowErrors.length === 0 ? (
        <EmptyState title={pending ? 'Not checked yet' : 'No row errors'}>
          {pending ? 'Rows are validated when the import runs.' : 'Every row of the file was valid.'}
        </EmptyState>
      ) : (
        <>
          <p class="muted small">
            These rows were skipped; the valid rows were imported. Line numbers count the header as line 1.
          </p>
          <div class="table-wrap">
            <table class="table" data-table="row-errors">
              <thead>
                <tr>
                  <th class="right col-narrow">Line</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {record.rowErrors.map((e) => (
                  <tr data-line={String(e.line)}>
                    <td class="right mono">{e.line}</td>
                    <td>{e.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
