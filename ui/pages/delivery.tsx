import { ResponseCode, type WebhookDelivery } from './webhooks';
import { can, EmptyState, formatDuration, PageHeader, StatusBadge, Time, type Me } from './shared';

export interface WebhookAttempt {
  attemptNumber: number;
  requestedAt: string;
  durationMs: number;
  responseStatus: number | null;
  responseBody?: string | null;
  error: string | null;
  succeeded: boolean;
}

export interface DeliveryDetail extends WebhookDelivery {
  attempts: WebhookAttempt[];
  endpointUrl: string | null;
  replayOfDeliveryId?: string | null;
  nextAttemptAt?: string | null;
  /** The exact JSON body sent to the receiver. */
  payload?: unknown;
}

export function DeliveryPage({
  me,
  delivery,
  temporalUiUrl,
}: {
  me: Me;
  delivery: DeliveryDetail;
  temporalUiUrl: string;
}) {
  const canWrite = can(me, 'webhooks:write');
  return (
    <section data-page="delivery">
      <p class="breadcrumb">
        <a href="/admin/webhooks">Webhooks</a> / <a href="/admin/webhooks#deliveries">Deliveries</a> /
      </p>
      <PageHeader
        title={`Delivery of ${delivery.eventType}`}
        subtitle={<code class="mono">{delivery.id}</code>}
        actions={
          canWrite ? (
            <button
              type="button"
              class="btn btn-primary"
              data-api-action=""
              data-method="POST"
              data-url={`/v1/webhook-deliveries/${encodeURIComponent(delivery.id)}/replay`}
              data-body="{}"
              data-confirm="Send this event to the endpoint again, as a new delivery?"
              data-then="open-delivery"
            >
              Replay
            </button>
          ) : null
        }
      />
      <dl class="facts card">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={delivery.status} />
          </dd>
        </div>
        <div>
          <dt>Endpoint</dt>
          <dd>
            <code class="url">{delivery.endpointUrl ?? delivery.endpointId}</code>
          </dd>
        </div>
        <div>
          <dt>Event</dt>
          <dd>
            <code>{delivery.eventId}</code>
          </dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{delivery.attemptCount}</dd>
        </div>
        <div>
          <dt>Last response</dt>
          <dd>
            <ResponseCode status={delivery.lastResponseStatus} />
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time value={delivery.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Completed</dt>
          <dd>
            <Time value={delivery.completedAt} empty="not yet" />
          </dd>
        </div>
        {delivery.nextAttemptAt ? (
          <div>
            <dt>Next attempt</dt>
            <dd>
              <Time value={delivery.nextAttemptAt} />
            </dd>
          </div>
        ) : null}
        {delivery.replayOfDeliveryId ? (
          <div>
            <dt>Replay of</dt>
            <dd>
              <a href={`/admin/webhooks/deliveries/${encodeURIComponent(delivery.replayOfDeliveryId)}`}>
                <code>{delivery.replayOfDeliveryId}</code>
              </a>
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Workflow</dt>
          <dd>
            <a href={temporalUiUrl} target="_blank" rel="noopener noreferrer" data-temporal-link="">
              <code>{delivery.workflowId}</code> ↗
            </a>
          </dd>
        </div>
      </dl>

      {delivery.payload !== undefined ? (
        <details class="payload" data-payload="">
          <summary>Payload sent</summary>
          <pre class="body-preview payload-body">{JSON.stringify(delivery.payload, null, 2)}</pre>
        </details>
      ) : null}

      <h2 class="section-title">Attempts</h2>
      {delivery.attempts.length === 0 ? (
        <EmptyState title="No attempts yet">
          The first attempt is made as soon as the delivery workflow runs.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="attempts">
            <thead>
              <tr>
                <th class="right">#</th>
                <th>Result</th>
                <th>Requested</th>
                <th class="right">Duration</th>
                <th>Response</th>
                <th>Error / body</th>
              </tr>
            </thead>
            <tbody>
              {delivery.attempts.map((a) => (
                <tr data-attempt={String(a.attemptNumber)}>
                  <td class="right">{a.attemptNumber}</td>
                  <td>
                    <StatusBadge status={a.succeeded ? 'succeeded' : 'failed'} />
                  </td>
                  <td class="nowrap">
                    <Time value={a.requestedAt} precise />
                  </td>
                  <td class="right nowrap">{formatDuration(a.durationMs)}</td>
                  <td>
                    <ResponseCode status={a.responseStatus} />
                  </td>
                  <td class="cell-summary">
                    {a.error ? <span class="danger-text">{a.error}</span> : null}
                    {a.responseBody ? <pre class="body-preview">{a.responseBody}</pre> : null}
                    {!a.error && !a.responseBody ? <span class="muted">—</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
