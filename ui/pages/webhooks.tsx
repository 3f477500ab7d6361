import { can, EmptyState, FormFooter, PageHeader, StatusBadge, Time, type Me } from './shared';

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  status: string;
  disabledReason?: string | null;
  failingSince?: string | null;
  createdAt: string;
}

export interface WebhookEventType {
  type: string;
  description: string | null;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: string;
  attemptCount: number;
  lastResponseStatus: number | null;
  createdAt: string;
  completedAt: string | null;
  workflowId: string;
}

export function ResponseCode({ status }: { status: number | null | undefined }) {
  if (status === null || status === undefined) return <span class="muted">—</span>;
  const tone = status >= 200 && status < 300 ? 'success' : status >= 500 ? 'danger' : 'warning';
  return <code class={`http http-${tone}`}>{status}</code>;
}

function EndpointActions({ endpoint }: { endpoint: WebhookEndpoint }) {
  const base = `/v1/webhook-endpoints/${encodeURIComponent(endpoint.id)}`;
  const disabled = endpoint.status === 'disabled';
  return (
    <div class="actions" data-endpoint-actions="">
      <button
        type="button"
        class="btn btn-sm"
        data-api-action=""
        data-method="POST"
        data-url={`${base}/test`}
        data-body="{}"
        data-then="flash-reload:Test event sent"
      >
        Send test
      </button>
      <button
        type="button"
        class="btn btn-sm"
        data-api-action=""
        data-method="POST"
        data-url={`${base}/rotate-secret`}
        data-body="{}"
        data-confirm="Rotate the signing secret? The current secret keeps working for 24 hours."
        data-then="reveal:secret"
        data-reveal-title="New signing secret"
      >
        Rotate secret
      </button>
      <button
        type="button"
        class="btn btn-sm"
        data-api-action=""
        data-method="PATCH"
        data-url={base}
        data-body={JSON.stringify({ status: disabled ? 'active' : 'disabled' })}
        data-then="reload"
      >
        {disabled ? 'Enable' : 'Disable'}
      </button>
      <button
        type="button"
        class="btn btn-sm btn-danger"
        data-api-action=""
        data-method="DELETE"
        data-url={base}
        data-confirm={`Delete the endpoint ${endpoint.url}? Its delivery history is deleted with it.`}
        data-then="reload"
      >
        Delete
      </button>
    </div>
  );
}

function CreateEndpointForm({ eventTypes }: { eventTypes: WebhookEventType[] }) {
  return (
    <details class="card create-card" data-create-endpoint="">
      <summary class="btn btn-primary">Add endpoint</summary>
      <form
        class="form"
        data-api-form=""
        data-method="POST"
        data-url="/v1/webhook-endpoints"
        data-then="reveal:secret"
        data-reveal-title="Signing secret for the new endpoint"
      >
        <div class="form-row">
          <label class="field grow">
            <span>Endpoint URL</span>
            <input type="url" name="url" placeholder="https://crm.example.com/hooks/p11" required />
          </label>
          <label class="field grow">
            <span>Description (optional)</span>
            <input type="text" name="description" maxlength={200} data-optional="" />
          </label>
        </div>
        <fieldset class="field">
          <legend>Events to send</legend>
          <div class="checkbox-grid">
            {eventTypes.map((t) => (
              <label class="checkbox">
                <input type="checkbox" name="eventTypes" value={t.type} data-array="" />
                <span>
                  <code>{t.type}</code>
                  {t.description ? <span class="muted small"> {t.description}</span> : null}
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <FormFooter submitLabel="Create endpoint" />
      </form>
    </details>
  );
}

export function WebhooksPage(props: {
  me: Me;
  endpoints: WebhookEndpoint[];
  eventTypes: WebhookEventType[];
  deliveries: WebhookDelivery[];
  endpointFilter: string | null;
}) {
  const { me, endpoints, deliveries, endpointFilter } = props;
  const canWrite = can(me, 'webhooks:write');
  const urls = new Map(endpoints.map((e) => [e.id, e.url]));
  const filtered = endpointFilter ? urls.get(endpointFilter) : null;
  return (
    <section data-page="webhooks">
      <PageHeader
        title="Webhooks"
        subtitle="Signed HTTP callbacks (Standard Webhooks) to your systems, retried until they are acknowledged."
      />
      {canWrite ? <CreateEndpointForm eventTypes={props.eventTypes} /> : null}

      <h2 class="section-title">Endpoints</h2>
      {endpoints.length === 0 ? (
        <EmptyState title="No endpoints">
          {canWrite ? 'Add an endpoint to start receiving events.' : 'An administrator can add one.'}
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="endpoints">
            <thead>
              <tr>
                <th>URL</th>
                <th>Events</th>
                <th>Status</th>
                <th>Created</th>
                {canWrite ? <th class="right">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {endpoints.map((e) => (
                <tr data-endpoint-id={e.id}>
                  <td>
                    <code class="url">{e.url}</code>
                    {e.description ? <div class="muted small">{e.description}</div> : null}
                    <a class="small" href={`/admin/webhooks?endpointId=${encodeURIComponent(e.id)}#deliveries`}>
                      Deliveries
                    </a>
                  </td>
                  <td>
                    <div class="chips">
                      {e.eventTypes.map((t) => (
                        <span class="chip">{t}</span>
                      ))}
                    </div>
                  </td>
                  <td>
                    <StatusBadge status={e.status} />
                    {e.disabledReason ? <div class="muted small">{e.disabledReason}</div> : null}
                    {e.failingSince && e.status !== 'disabled' ? (
                      <div class="small warning-text">
                        Failing since <Time value={e.failingSince} />
                      </div>
                    ) : null}
                  </td>
                  <td class="nowrap">
                    <Time value={e.createdAt} />
                  </td>
                  {canWrite ? (
                    <td class="right">
                      <EndpointActions endpoint={e} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2 class="section-title" id="deliveries">
        Recent deliveries
        {endpointFilter ? (
          <span class="filter-note">
            {' '}
            to <code>{filtered ?? endpointFilter}</code> · <a href="/admin/webhooks#deliveries">show all</a>
          </span>
        ) : null}
      </h2>
      {deliveries.length === 0 ? (
        <EmptyState title="No deliveries yet">
          Events sent to your endpoints show up here with every attempt.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="deliveries">
            <thead>
              <tr>
                <th>Event</th>
                <th>Endpoint</th>
                <th>Status</th>
                <th class="right">Attempts</th>
                <th>Last response</th>
                <th>Created</th>
                <th class="right"></th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr data-delivery-id={d.id}>
                  <td>
                    <code>{d.eventType}</code>
                    <div class="muted small mono">{d.eventId}</div>
                  </td>
                  <td>
                    <code class="url">{urls.get(d.endpointId) ?? d.endpointId}</code>
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td class="right">{d.attemptCount}</td>
                  <td>
                    <ResponseCode status={d.lastResponseStatus} />
                  </td>
                  <td class="nowrap">
                    <Time value={d.createdAt} />
                  </td>
                  <td class="right">
                    <a href={`/admin/webhooks/deliveries/${encodeURIComponent(d.id)}`}>Details</a>
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
