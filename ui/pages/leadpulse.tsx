/**
 * /admin/leadpulse: the model registry (versions with status, holdout AUC against the logistic baseline and the
 * promoted model, log loss, calibration by decile, trees, rows, ONNX hash), Train now and Promote for those who
 * may (leadpulse:write), and a "score a lead" form. The form is a plain GET of this page: the server calls
 * POST /v1/leadpulse/predict with the reader's own session and renders the answer, so it works without script
 * and viewers (leadpulse:read) can use it too.
 */
import type { Context } from 'hono';
import type { HtmlEscapedString } from 'hono/utils/html';
import { DateTime } from 'luxon';
import { can, EmptyState, PageHeader, TemporalLink, Time, type Me } from './shared';

// ── What the API answers (api/routes/leadpulse.ts) ────────────────────────────────────────────────────────

export interface ModelView {
  id: string;
  version: number;
  status: 'candidate' | 'promoted' | 'retired' | 'rejected';
  statusReason: string | null;
  metrics: {
    auc: number;
    logLoss: number;
    baselineAuc: number;
    baselineLogLoss: number;
    incumbentVersion: number | null;
    incumbentAuc: number | null;
    trees: number;
    trainRows: number;
    validationRows: number;
    holdoutRows: number;
    positiveRate: number;
    onnxMaxAbsDiff: number;
    trainingSeconds: number;
  };
  features: number;
  onnxSha256: string;
  trainingWorkflowId: string;
  workflowUrl: string;
  trainedFrom: string | null;
  trainedTo: string | null;
  createdAt: string;
  promotedAt: string | null;
}

interface Evaluation {
  auc: number;
  logLoss: number;
  calibration: { decile: number; count: number; meanPredicted: number; observedRate: number }[];
}

export interface ModelDetail extends ModelView {
  params: Record<string, number>;
  featureSpec: { names: string[]; sources: string[]; unitTypes: string[] };
  evaluation: { holdout: Evaluation; baseline: Evaluation; incumbent: (Evaluation & { version: number }) | null };
}

export interface ScheduleView {
  scheduleId: string;
  cron: string | null;
  paused: boolean;
  nextActionTimes: string[];
  lastRunAt: string | null;
}

export interface ModelsAnswer {
  models: ModelView[];
  promotedVersion: number | null;
  schedule: ScheduleView | null;
}

export interface PredictAnswer {
  score: number;
  bucket: 'high_intent' | 'medium_intent' | 'low_intent';
  model_version: number;
  top_factors: { feature: string; impact: number; direction: 'up' | 'down' }[];
}

/** The score form's fields as typed (strings from the query), echoed back into the form. */
export interface ScoreForm {
  source: string;
  interactions: string;
  response_time: string;
  received_at: string;
  email_domain: string;
  has_phone: boolean;
  unit_type: string;
  property_id: string;
}

const EMPTY_FORM: ScoreForm = {
  source: '',
  interactions: '',
  response_time: '',
  received_at: '',
  email_domain: '',
  has_phone: false,
  unit_type: '',
  property_id: '',
};

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;
type Load = <T>(path: string, body?: unknown) => Promise<T>;

// ── The handler ui/admin.tsx mounts at /admin/leadpulse ───────────────────────────────────────────────────

function apiStatus(err: unknown): number | null {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : null;
}

/** The predict body from the form: empty fields left out, so the API's own defaults and validation apply. */
export function predictBodyOf(form: ScoreForm, me: Me): { features: Record<string, unknown> } {
  const features: Record<string, unknown> = { source: form.source };
  const number = (value: string) => (/^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value);
  if (form.interactions.trim()) features.interactions = number(form.interactions);
  if (form.response_time.trim()) features.response_time = number(form.response_time);
  if (form.email_domain.trim()) features.email_domain = form.email_domain.trim();
  if (form.unit_type.trim()) features.unit_type = form.unit_type.trim();
  features.has_phone = form.has_phone;
  const property = me.properties.find((p) => p.id === form.property_id);
  if (form.property_id) features.property_id = form.property_id;
  if (form.received_at.trim()) {
    // A datetime-local value has no zone: it is the time at the property (UTC without one).
    const local = DateTime.fromISO(form.received_at.trim(), { zone: property?.timezone ?? 'UTC' });
    features.received_at = local.isValid ? local.toUTC().toISO() : form.received_at.trim();
  }
  return { features };
}

export async function leadPulsePage(
  c: Context,
  me: Me,
  load: Load,
): Promise<{ title: string; active: `product:${string}`; body: Html }> {
  const q = c.req.query();
  const registry = await load<ModelsAnswer>('/v1/leadpulse/models');
  const requested = q.version && /^\d{1,9}$/.test(q.version) ? Number(q.version) : null;
  const selectedVersion =
    registry.models.find((m) => m.version === requested)?.version ??
    registry.promotedVersion ??
    registry.models[0]?.version ??
    null;
  const detail =
    selectedVersion === null
      ? null
      : (await load<{ model: ModelDetail }>(`/v1/leadpulse/models/${selectedVersion}`)).model;

  const form: ScoreForm = {
    source: q.source ?? '',
    interactions: q.interactions ?? '',
    response_time: q.response_time ?? '',
    received_at: q.received_at ?? '',
    email_domain: q.email_domain ?? '',
    has_phone: q.has_phone === 'on' || q.has_phone === 'true',
    unit_type: q.unit_type ?? '',
    property_id: q.property_id ?? me.propertyId ?? '',
  };
  let result: PredictAnswer | null = null;
  let scoreError: string | null = null;
  if (q.score !== undefined) {
    try {
      result = await load<PredictAnswer>('/v1/leadpulse/predict', predictBodyOf(form, me));
    } catch (err) {
      // Invalid input and "no model yet" belong beside the form, not on an error page.
      const status = apiStatus(err);
      if (status === null || ![400, 409, 415, 422].includes(status)) throw err;
      scoreError = (err as Error).message;
    }
  }
  return {
    title: 'LeadPulse',
    active: 'product:leadpulse',
    body: (
      <LeadPulsePage
        me={me}
        registry={registry}
        detail={detail}
        form={q.score !== undefined ? form : { ...EMPTY_FORM, property_id: form.property_id }}
        result={result}
        scoreError={scoreError}
      />
    ),
  };
}

// ── Rendering ─────────────────────────────────────────────────────────────────────────────────────────────

const STATUS_TONE: Record<ModelView['status'], string> = {
  promoted: 'success',
  candidate: 'info',
  rejected: 'warning',
  retired: 'neutral',
};

function ModelStatus({ status }: { status: ModelView['status'] }) {
  return (
    <span class={`badge badge-${STATUS_TONE[status]}`} data-status={status}>
      {status}
    </span>
  );
}

const BUCKET_LABEL: Record<PredictAnswer['bucket'], { label: string; tone: string }> = {
  high_intent: { label: 'High intent', tone: 'success' },
  medium_intent: { label: 'Medium intent', tone: 'info' },
  low_intent: { label: 'Low intent', tone: 'neutral' },
};

const auc = (value: number | null | undefined) => (value === null || value === undefined ? '—' : value.toFixed(3));
const pct = (value: number) => `${(100 * value).toFixed(1)}%`;
const int = (value: number) => value.toLocaleString('en-US');

export function LeadPulsePage(props: {
  me: Me;
  registry: ModelsAnswer;
  detail: ModelDetail | null;
  form: ScoreForm;
  result: PredictAnswer | null;
  scoreError: string | null;
}) {
  const { me, registry, detail } = props;
  const canWrite = can(me, 'leadpulse:write');
  return (
    <section data-page="leadpulse">
      <PageHeader
        title="LeadPulse"
        subtitle="Lead scoring: gradient-boosted trees trained on your own lead history, served through ONNX. A new version replaces the promoted one only when it beats it (and a logistic-regression baseline) on the same holdout."
        actions={
          canWrite ? (
            <button
              type="button"
              class="btn btn-primary"
              data-api-action=""
              data-method="POST"
              data-url="/v1/leadpulse/models/train"
              data-body="{}"
              data-then="flash-reload:Training started; the new version appears here when it finishes"
              data-train=""
            >
              Train now
            </button>
          ) : null
        }
      />
      <ScheduleNote schedule={registry.schedule} />
      {canWrite ? null : (
        <p class="notice-inline small" data-read-only="">
          Training and promoting models is for administrators; you can read the registry and score leads.
        </p>
      )}
      {registry.models.length === 0 ? (
        <EmptyState title="No model yet">
          {canWrite
            ? 'Train the first model from your lead history with “Train now”. It needs a few hundred leads older than the label maturity window, some of them leased.'
            : 'An administrator trains the first model from the lead history. Leads are scored once a model is promoted.'}
        </EmptyState>
      ) : (
        <ModelTable models={registry.models} selected={detail?.version ?? null} canWrite={canWrite} />
      )}
      {detail ? <ModelDetailCard model={detail} /> : null}
      <ScoreCard me={me} form={props.form} result={props.result} error={props.scoreError} detail={detail} />
    </section>
  );
}

function ScheduleNote({ schedule }: { schedule: ScheduleView | null }) {
  if (!schedule) {
    return (
      <p class="muted small" data-schedule="none">
        Monthly retraining starts with the first training run.
      </p>
    );
  }
  return (
    <p class="muted small" data-schedule={schedule.paused ? 'paused' : 'active'}>
      Monthly retraining
      {schedule.cron ? (
        <>
          {' '}
          (<code>{schedule.cron}</code> UTC)
        </>
      ) : null}
      :{' '}
      {schedule.paused ? (
        <strong>paused in Temporal</strong>
      ) : (
        <>
          next run <Time value={schedule.nextActionTimes[0] ?? null} empty="not scheduled" />
        </>
      )}
      {schedule.lastRunAt ? (
        <>
          {' '}
          · last run <Time value={schedule.lastRunAt} />
        </>
      ) : null}
    </p>
  );
}

function ModelTable({
  models,
  selected,
  canWrite,
}: {
  models: ModelView[];
  selected: number | null;
  canWrite: boolean;
}) {
  return (
    <div class="table-wrap">
      <table class="table table-numbers" data-table="models">
        <thead>
          <tr>
            <th>Version</th>
            <th>Status</th>
            <th class="right">AUC</th>
            <th class="right">Baseline AUC</th>
            <th class="right">Incumbent AUC</th>
            <th class="right">Log loss</th>
            <th class="right">Trees</th>
            <th class="right">Rows (train / holdout)</th>
            <th>Trained</th>
            <th>ONNX</th>
            <th class="right">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr data-version={String(m.version)} class={m.version === selected ? 'row-total' : undefined}>
              <td class="nowrap">
                <a href={`/admin/leadpulse?version=${m.version}`}>v{m.version}</a>
              </td>
              <td>
                <ModelStatus status={m.status} />
                {m.statusReason ? (
                  <span class="muted small block" data-status-reason="">
                    {m.statusReason}
                  </span>
                ) : null}
              </td>
              <td class="right" data-cell="auc">
                <strong>{auc(m.metrics.auc)}</strong>
              </td>
              <td class="right" data-cell="baseline-auc">
                {auc(m.metrics.baselineAuc)}
              </td>
              <td class="right" data-cell="incumbent-auc">
                {m.metrics.incumbentVersion === null ? (
                  <span class="muted">—</span>
                ) : (
                  <>
                    {auc(m.metrics.incumbentAuc)} <span class="muted small">v{m.metrics.incumbentVersion}</span>
                  </>
                )}
              </td>
              <td class="right">{m.metrics.logLoss.toFixed(4)}</td>
              <td class="right">{m.metrics.trees}</td>
              <td class="right nowrap">
                {int(m.metrics.trainRows)} / {int(m.metrics.holdoutRows)}
              </td>
              <td class="nowrap">
                <Time value={m.createdAt} />
                <span class="block small">
                  <TemporalLink href={m.workflowUrl} />
                </span>
              </td>
              <td>
                <code class="mono" title={m.onnxSha256}>
                  {m.onnxSha256.slice(0, 12)}
                </code>
              </td>
              <td class="right nowrap">
                {canWrite && m.status !== 'promoted' ? (
                  <button
                    type="button"
                    class="btn btn-sm"
                    data-api-action=""
                    data-method="POST"
                    data-url={`/v1/leadpulse/models/${m.version}/promote`}
                    data-body="{}"
                    data-confirm={`Serve v${m.version} for every new lead from now on? The promoted version is retired (you can promote it again).`}
                    data-then={`flash-reload:v${m.version} promoted`}
                    data-promote={String(m.version)}
                  >
                    Promote
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Mean predicted against observed lease rate per decile, as bars: close pairs mean a calibrated model. */
function CalibrationChart({ calibration }: { calibration: Evaluation['calibration'] }) {
  const width = 560;
  const height = 180;
  const pad = { left: 36, bottom: 22, top: 8 };
  const top = Math.max(0.05, ...calibration.flatMap((d) => [d.meanPredicted, d.observedRate]));
  const slot = (width - pad.left) / Math.max(1, calibration.length);
  const bar = Math.max(2, slot / 2 - 3);
  const y = (v: number) => height - pad.bottom - (v / top) * (height - pad.bottom - pad.top);
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      width="100%"
      height={String(height)}
      role="img"
      aria-label="Calibration by decile: mean predicted probability and observed lease rate"
      data-chart="calibration"
    >
      <line x1={String(pad.left)} y1={String(y(0))} x2={String(width)} y2={String(y(0))} stroke="#cbd5e1" />
      <text x="0" y={String(y(top) + 10)} font-size="10" fill="#64748b">
        {pct(top)}
      </text>
      <text x="0" y={String(y(0))} font-size="10" fill="#64748b">
        0%
      </text>
      {calibration.map((d, i) => {
        const x = pad.left + i * slot + 2;
        return (
          <g>
            <rect
              x={String(x)}
              y={String(y(d.meanPredicted))}
              width={String(bar)}
              height={String(y(0) - y(d.meanPredicted))}
              fill="#a5b4fc"
            >
              <title>{`Decile ${d.decile}: mean predicted ${pct(d.meanPredicted)}`}</title>
            </rect>
            <rect
              x={String(x + bar + 2)}
              y={String(y(d.observedRate))}
              width={String(bar)}
              height={String(y(0) - y(d.observedRate))}
              fill="#4f46e5"
            >
              <title>{`Decile ${d.decile}: observed ${pct(d.observedRate)} of ${d.count}`}</title>
            </rect>
            <text x={String(x + bar)} y={String(height - 6)} font-size="10" fill="#64748b" text-anchor="middle">
              {String(d.decile)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function ModelDetailCard({ model }: { model: ModelDetail }) {
  const e = model.evaluation;
  return (
    <div class="card" data-model-detail={String(model.version)}>
      <h2 class="card-title">
        v{model.version} <ModelStatus status={model.status} />
      </h2>
      <dl class="facts">
        <div>
          <dt>Holdout AUC</dt>
          <dd data-fact="auc">{auc(e.holdout.auc)}</dd>
        </div>
        <div>
          <dt>Logistic baseline AUC</dt>
          <dd data-fact="baseline-auc">{auc(e.baseline.auc)}</dd>
        </div>
        <div>
          <dt>Promoted model then, same holdout</dt>
          <dd data-fact="incumbent-auc">
            {e.incumbent ? `${auc(e.incumbent.auc)} (v${e.incumbent.version})` : 'none'}
          </dd>
        </div>
        <div>
          <dt>Log loss (baseline)</dt>
          <dd>
            {e.holdout.logLoss.toFixed(4)} ({e.baseline.logLoss.toFixed(4)})
          </dd>
        </div>
        <div>
          <dt>Trees kept (early stopping)</dt>
          <dd>{model.metrics.trees}</dd>
        </div>
        <div>
          <dt>Rows: train / validation / holdout</dt>
          <dd>
            {int(model.metrics.trainRows)} / {int(model.metrics.validationRows)} / {int(model.metrics.holdoutRows)} (
            {pct(model.metrics.positiveRate)} leased)
          </dd>
        </div>
        <div>
          <dt>History</dt>
          <dd>
            <Time value={model.trainedFrom} /> – <Time value={model.trainedTo} />
          </dd>
        </div>
        <div>
          <dt>Training time</dt>
          <dd>{model.metrics.trainingSeconds.toFixed(1)} s</dd>
        </div>
        <div>
          <dt>ONNX SHA-256</dt>
          <dd>
            <code class="mono" data-fact="onnx-sha256">
              {model.onnxSha256}
            </code>
          </dd>
        </div>
        <div>
          <dt>ONNX vs trainer, max |Δp|</dt>
          <dd>{model.metrics.onnxMaxAbsDiff.toExponential(1)}</dd>
        </div>
        <div>
          <dt>Parameters</dt>
          <dd class="small">
            {Object.entries(model.params)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}
          </dd>
        </div>
        <div>
          <dt>Features ({model.featureSpec.names.length})</dt>
          <dd class="small">{model.featureSpec.names.join(', ')}</dd>
        </div>
      </dl>
      <h3 class="section-title">Calibration by decile (holdout)</h3>
      <p class="muted small">
        Light bars: mean predicted probability; dark bars: observed lease rate, per tenth of leads by score (lowest
        first).
      </p>
      <CalibrationChart calibration={e.holdout.calibration} />
      <div class="table-wrap">
        <table class="table table-numbers" data-table="calibration">
          <thead>
            <tr>
              <th>Decile</th>
              <th class="right">Leads</th>
              <th class="right">Mean predicted</th>
              <th class="right">Observed</th>
            </tr>
          </thead>
          <tbody>
            {e.holdout.calibration.map((d) => (
              <tr>
                <td>{d.decile}</td>
                <td class="right">{int(d.count)}</td>
                <td class="right">{pct(d.meanPredicted)}</td>
                <td class="right">{pct(d.observedRate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function ScoreCard(props: {
  me: Me;
  form: ScoreForm;
  result: PredictAnswer | null;
  error: string | null;
  detail: ModelDetail | null;
}) {
  const { me, form, result, error } = props;
  const sources = props.detail?.featureSpec.sources ?? [];
  return (
    <div class="card" data-score-card="">
      <h2 class="card-title">Score a lead</h2>
      <p class="muted small">
        What the promoted model says about a lead with these details (the same call as{' '}
        <code>POST /v1/leadpulse/predict</code>).
      </p>
      <form method="get" action="/admin/leadpulse" class="form" data-score-form="">
        <input type="hidden" name="score" value="1" />
        <div class="form-row">
          <label class="field">
            <span>Source</span>
            <input type="text" name="source" value={form.source} list="leadpulse-sources" required maxlength={64} />
            <datalist id="leadpulse-sources">
              {sources.map((s) => (
                <option value={s} />
              ))}
            </datalist>
          </label>
          <label class="field">
            <span>Interactions</span>
            <input type="number" name="interactions" value={form.interactions} min="0" step="1" placeholder="0" />
          </label>
          <label class="field">
            <span>Minutes to first reply</span>
            <input type="number" name="response_time" value={form.response_time} min="0" placeholder="no reply" />
          </label>
          <label class="field">
            <span>Email domain</span>
            <input type="text" name="email_domain" value={form.email_domain} placeholder="gmail.com" maxlength={253} />
          </label>
        </div>
        <div class="form-row">
          <label class="field">
            <span>Inquiry time (at the property)</span>
            <input type="datetime-local" name="received_at" value={form.received_at} />
          </label>
          <label class="field">
            <span>Property</span>
            <select name="property_id">
              <option value="" selected={!form.property_id}>
                — (UTC)
              </option>
              {me.properties.map((p) => (
                <option value={p.id} selected={form.property_id === p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Unit type</span>
            <input type="text" name="unit_type" value={form.unit_type} placeholder="2br" maxlength={40} />
          </label>
          <label class="checkbox">
            <input type="checkbox" name="has_phone" checked={form.has_phone} />
            <span>Gave a phone number</span>
          </label>
        </div>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary">
            Score
          </button>
        </div>
      </form>
      {error ? (
        <p class="form-error" role="alert" data-score-error="">
          {error}
        </p>
      ) : null}
      {result ? (
        <div data-score-result="">
          <p>
            <strong class="count-badge" data-score={String(result.score)}>
              {result.score}
            </strong>{' '}
            <span class={`badge badge-${BUCKET_LABEL[result.bucket].tone}`} data-bucket={result.bucket}>
              {BUCKET_LABEL[result.bucket].label}
            </span>{' '}
            <span class="muted small">model v{result.model_version}</span>
          </p>
          {result.top_factors.length ? (
            <ul class="small" data-top-factors="">
              {result.top_factors.map((f) => (
                <li data-factor={f.feature}>
                  {f.direction === 'up' ? '▲' : '▼'} {f.feature}{' '}
                  <span class="muted">
                    ({f.impact >= 0 ? '+' : ''}
                    {f.impact.toFixed(2)} log-odds)
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
