import { enabledProductsInOrder, PRODUCTS, productLabel } from '../products';
import {
  currentProperty,
  EmptyState,
  formatDuration,
  PageHeader,
  StatusBadge,
  TemporalLink,
  Time,
  type Me,
} from './shared';

/** One row of GET /v1/workflows. */
export interface WorkflowRun {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string | null;
  closeTime: string | null;
  summary: string | null;
  product: string | null;
  propertyId: string | null;
  temporalUiUrl: string;
}

export function WorkflowsPage({ me, runs, product }: { me: Me; runs: WorkflowRun[]; product: string | null }) {
  const property = currentProperty(me);
  const propertyNames = new Map(me.properties.map((p) => [p.id, p.name]));
  const products = enabledProductsInOrder(me.org.enabledProducts);
  const title = product ? productLabel(product) : 'Workflows';
  const scope = property ? property.name : 'all properties';
  return (
    <section data-page="workflows">
      <PageHeader
        title={title}
        subtitle={
          <>
            {product && product in PRODUCTS ? `${PRODUCTS[product as keyof typeof PRODUCTS].description}. ` : null}
            Recent runs for <strong data-scope="">{scope}</strong>, newest first.
          </>
        }
        actions={
          <>
            <form method="get" action="/admin/workflows" class="inline-form">
              <label class="sr-only" for="product-filter">
                Product
              </label>
              <select id="product-filter" name="product" data-autosubmit="">
                <option value="" selected={!product}>
                  All products
                </option>
                {products.map((id) => (
                  <option value={id} selected={product === id}>
                    {PRODUCTS[id].label}
                  </option>
                ))}
              </select>
              <noscript>
                <button type="submit" class="btn btn-sm">
                  Filter
                </button>
              </noscript>
            </form>
            <label class="toggle">
              <input type="checkbox" data-auto-refresh="10" /> Auto-refresh
            </label>
            <a class="btn btn-sm" href="">
              Refresh
            </a>
          </>
        }
      />
      {runs.length === 0 ? (
        <EmptyState title="No workflow runs yet">
          {product
            ? `Nothing has run for ${productLabel(product)} in ${scope}. Runs appear here seconds after they start.`
            : `Nothing has run in ${scope}. Runs appear here seconds after they start.`}
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="workflows">
            <thead>
              <tr>
                <th>Status</th>
                <th>Workflow</th>
                {product ? null : <th>Product</th>}
                {property ? null : <th>Property</th>}
                <th>Started</th>
                <th>Closed</th>
                <th>Summary</th>
                <th class="right">
                  <span class="sr-only">Temporal Web UI</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr data-workflow-id={run.workflowId}>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td class="cell-id">
                    <code class="wf-id" title={run.workflowId}>
                      {run.workflowId}
                    </code>
                    <span class="wf-type">{run.type}</span>
                  </td>
                  {product ? null : <td data-cell="product">{productLabel(run.product)}</td>}
                  {property ? null : (
                    <td data-cell="property">
                      {run.propertyId ? (
                        (propertyNames.get(run.propertyId) ?? run.propertyId)
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                  )}
                  <td class="nowrap">
                    <Time value={run.startTime} />
                  </td>
                  <td class="nowrap">
                    <Time value={run.closeTime} />
                    {run.startTime && run.closeTime ? (
                      <span class="muted small block">
                        after {formatDuration(new Date(run.closeTime).getTime() - new Date(run.startTime).getTime())}
                      </span>
                    ) : null}
                  </td>
                  <td class="cell-summary">{run.summary ?? <span class="muted">—</span>}</td>
                  <td class="right nowrap">
                    <TemporalLink href={run.temporalUiUrl} />
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
