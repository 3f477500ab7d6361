/**
 * TourSpark's sequence editor (/admin/tourspark): one property's follow-up sequence as rows (steps: delay,
 * action, template; templates: SMS body or email subject and body), exit conditions, quiet hours, the scheduler
 * link and the on/off switch. leads.js turns the form into the definition JSON, PUTs it to
 * /v1/tourspark/sequences/:propertyId and shows the API's 422 issues next to the fields they name.
 */
import { PropertyPicker } from './lumaleasing-common';
import { TourSparkTabs } from './leads';
import { can, EmptyState, FormError, PageHeader, Time, type Me } from './shared';

export interface SequenceTemplateView {
  channel: 'sms' | 'email';
  subject?: string;
  body: string;
}

export interface SequenceDefinitionView {
  steps: { id: number; delay: string; action: 'sms' | 'email'; template: string }[];
  exit_conditions: string[];
  templates: Record<string, SequenceTemplateView>;
  quiet_hours: { start: string; end: string };
  scheduler_url: string;
}

export interface PropertySequenceView {
  propertyId: string;
  propertyName: string;
  timezone: string;
  custom: boolean;
  enabled: boolean;
  definition: SequenceDefinitionView;
  updatedBy: string | null;
  updatedAt: string | null;
}

export interface SequenceAnswer {
  sequence: PropertySequenceView;
  exitConditions: string[];
  templateVariables: string[];
  maxSmsLength: number;
}

const EXIT_LABELS: Record<string, string> = {
  tour_booked: 'A tour is booked',
  reply_received: 'The lead replies',
  opt_out: 'The lead opts out',
};

/** Where leads.js shows an issue for `key` of this row (or of the row itself when key is empty). */
function FieldError({ keyName }: { keyName: string }) {
  return <p class="form-error small" data-error-key={keyName} role="alert" hidden></p>;
}

function StepRow({ step }: { step?: SequenceDefinitionView['steps'][number] }) {
  return (
    <div class="rule-row" data-row="" data-step-row="">
      <label class="field">
        <span class="sr-only">Step id</span>
        <input type="number" min={1} max={1000} value={step ? String(step.id) : ''} data-step="id" required />
        <FieldError keyName="id" />
      </label>
      <label class="field">
        <span class="sr-only">Delay</span>
        <input type="text" value={step?.delay ?? ''} placeholder="24h" data-step="delay" required />
        <FieldError keyName="delay" />
      </label>
      <label class="field">
        <span class="sr-only">Action</span>
        <select data-step="action">
          <option value="sms" selected={step?.action !== 'email'}>
            SMS
          </option>
          <option value="email" selected={step?.action === 'email'}>
            Email
          </option>
        </select>
        <FieldError keyName="action" />
      </label>
      <label class="field grow">
        <span class="sr-only">Template</span>
        <input
          type="text"
          value={step?.template ?? ''}
          placeholder="template_name"
          data-step="template"
          list="template-names"
          required
        />
        <FieldError keyName="template" />
      </label>
      <button type="button" class="btn btn-sm btn-ghost" data-remove-row="" title="Remove this step">
        Remove
      </button>
      <FieldError keyName="" />
    </div>
  );
}

function TemplateRow({ name, template }: { name?: string; template?: SequenceTemplateView }) {
  const email = template?.channel === 'email';
  return (
    <fieldset class="credentials" data-row="" data-template-row="">
      <div class="form-row">
        <label class="field">
          <span>Name</span>
          <input type="text" value={name ?? ''} placeholder="intro_sms" data-template="name" required />
          <FieldError keyName="name" />
        </label>
        <label class="field">
          <span>Channel</span>
          <select data-template="channel">
            <option value="sms" selected={!email}>
              SMS
            </option>
            <option value="email" selected={email}>
              Email
            </option>
          </select>
          <FieldError keyName="channel" />
        </label>
        <label class="field grow" data-template-subject="">
          <span>Subject</span>
          <input type="text" value={template?.subject ?? ''} maxlength={200} data-template="subject" />
          <FieldError keyName="subject" />
        </label>
      </div>
      <label class="field">
        <span>Body</span>
        <textarea rows={email ? 5 : 3} data-template="body">
          {template?.body ?? ''}
        </textarea>
        <FieldError keyName="body" />
      </label>
      <div class="form-row">
        <button type="button" class="btn btn-sm btn-ghost" data-remove-row="">
          Remove template
        </button>
      </div>
      <FieldError keyName="" />
    </fieldset>
  );
}

export function SequencesPage({
  me,
  property,
  answer,
}: {
  me: Me;
  property: { id: string; name: string } | null;
  answer: SequenceAnswer | null;
}) {
  const canWrite = can(me, 'tourspark:write');
  const s = answer?.sequence;
  return (
    <section data-page="tourspark-sequences" data-property-id={property?.id ?? ''}>
      <PageHeader
        title="TourSpark"
        subtitle="The follow-up each new lead of a property gets: what is sent when, and what ends it."
        actions={property ? <PropertyPicker me={me} action="/admin/tourspark" selected={property.id} /> : null}
      />
      <TourSparkTabs active="sequences" />
      {!property || !answer || !s ? (
        <EmptyState title="No properties">Add a property first; a sequence belongs to one property.</EmptyState>
      ) : (
        <form
          class="form card"
          data-sequence-form=""
          data-url={`/v1/tourspark/sequences/${encodeURIComponent(property.id)}`}
          novalidate
        >
          <h2 class="card-title">
            Sequence for <span data-property-name="">{property.name}</span>{' '}
            {s.custom ? (
              <span class="badge badge-info" data-custom="">
                custom
              </span>
            ) : (
              <span class="badge badge-neutral" data-custom="default">
                default
              </span>
            )}
          </h2>
          <p class="muted small">
            {s.custom ? (
              <>
                Last changed by {s.updatedBy ?? 'someone'} <Time value={s.updatedAt} />.{' '}
              </>
            ) : (
              'This property follows the default sequence; saving gives it its own. '
            )}
            Running sequences keep the definition they started with. Times are in {s.timezone}.
          </p>
          {canWrite ? null : (
            <p class="notice-inline small form-note">Only administrators change sequences; you can read them.</p>
          )}
          <fieldset class="plain-fieldset form" disabled={!canWrite}>
            <label class="checkbox">
              <input type="checkbox" name="enabled" checked={s.enabled} data-sequence="enabled" />
              <span>
                Follow up new leads of this property{' '}
                <span class="muted small">(off: new leads are scored, not messaged)</span>
              </span>
            </label>

            <div class="settings-section">
              <h3 class="section-title">Steps</h3>
              <p class="muted small hint">
                Each step waits its delay (after the previous step), then sends its template: “5m”, “24h”, “2d”.
              </p>
              <div class="rule-rows" data-rows="steps" data-path="steps">
                {s.definition.steps.map((step) => (
                  <StepRow step={step} />
                ))}
              </div>
              <template data-row-template="steps">
                <StepRow />
              </template>
              <div class="form-row">
                <button type="button" class="btn btn-sm" data-add-row="steps">
                  Add step
                </button>
              </div>
              <FieldError keyName="steps" />
            </div>

            <div class="settings-section">
              <h3 class="section-title">Templates</h3>
              <p class="muted small hint" data-variables="">
                Variables:{' '}
                {answer.templateVariables.map((v) => (
                  <>
                    <code class="mono">{`{{${v}}}`}</code>{' '}
                  </>
                ))}
                · SMS at most {answer.maxSmsLength} characters.
              </p>
              <datalist id="template-names">
                {Object.keys(s.definition.templates).map((name) => (
                  <option value={name}></option>
                ))}
              </datalist>
              <div class="rule-rows" data-rows="templates" data-path="templates">
                {Object.entries(s.definition.templates).map(([name, template]) => (
                  <TemplateRow name={name} template={template} />
                ))}
              </div>
              <template data-row-template="templates">
                <TemplateRow />
              </template>
              <div class="form-row">
                <button type="button" class="btn btn-sm" data-add-row="templates">
                  Add template
                </button>
              </div>
              <FieldError keyName="templates" />
            </div>

            <div class="settings-section">
              <h3 class="section-title">Ends when</h3>
              <div class="checkbox-grid" data-path="exit_conditions">
                {answer.exitConditions.map((condition) => (
                  <label class="checkbox">
                    <input
                      type="checkbox"
                      value={condition}
                      checked={s.definition.exit_conditions.includes(condition)}
                      data-exit-condition=""
                    />
                    <span>{EXIT_LABELS[condition] ?? condition}</span>
                  </label>
                ))}
              </div>
              <FieldError keyName="exit_conditions" />
              <p class="muted small hint">Otherwise it ends after its last step.</p>
            </div>

            <div class="settings-section">
              <h3 class="section-title">Quiet hours and scheduling</h3>
              <div class="form-row" data-path="quiet_hours">
                <label class="field">
                  <span>No SMS from</span>
                  <input type="time" value={s.definition.quiet_hours.start} data-sequence="quiet_hours.start" />
                  <FieldError keyName="quiet_hours.start" />
                </label>
                <label class="field">
                  <span>until</span>
                  <input type="time" value={s.definition.quiet_hours.end} data-sequence="quiet_hours.end" />
                  <FieldError keyName="quiet_hours.end" />
                </label>
                <label class="field grow">
                  <span>Scheduler link ({'{{scheduler_link}}'})</span>
                  <input type="url" value={s.definition.scheduler_url} data-sequence="scheduler_url" />
                  <FieldError keyName="scheduler_url" />
                </label>
              </div>
              <FieldError keyName="quiet_hours" />
            </div>
          </fieldset>
          {canWrite ? (
            <>
              <FormError />
              <ul class="form-error small" data-error-list="" hidden></ul>
              <div class="form-actions">
                {s.custom ? (
                  <button
                    type="button"
                    class="btn btn-danger"
                    data-api-action=""
                    data-method="DELETE"
                    data-url={`/v1/tourspark/sequences/${encodeURIComponent(property.id)}`}
                    data-confirm="Discard this property’s sequence and follow the default one?"
                    data-then="flash-reload:Back to the default sequence"
                    data-reset-sequence=""
                  >
                    Reset to default
                  </button>
                ) : null}
                <button type="submit" class="btn btn-primary">
                  Save sequence
                </button>
              </div>
            </>
          ) : null}
        </form>
      )}
    </section>
  );
}
