import { LumaTabs, PropertyPicker, type SettingsAnswer } from './lumaleasing-common';
import { can, EmptyState, FormError, PageHeader, type Me } from './shared';

const TONES = [
  { value: 'friendly', label: 'Friendly', help: 'warm and conversational' },
  { value: 'professional', label: 'Professional', help: 'polite and precise' },
  { value: 'concise', label: 'Concise', help: 'short, to the point' },
] as const;

/** The default accent of the widget when none is set (the console's own). */
export const DEFAULT_BRAND_COLOR = '#4f46e5';

/** A value with a Copy button (admin.js copies the target's text). */
function Copyable({ id, value, block }: { id: string; value: string; block?: boolean }) {
  return (
    <div class={block ? 'copyable copyable-block' : 'copyable'}>
      {block ? (
        <pre class="snippet" id={id}>
          <code>{value}</code>
        </pre>
      ) : (
        <code class="copy-value" id={id}>
          {value}
        </code>
      )}
      <button type="button" class="btn btn-sm" data-copy-target={`#${id}`}>
        Copy
      </button>
    </div>
  );
}

export function SettingsPage({
  me,
  property,
  answer,
}: {
  me: Me;
  property: { id: string; name: string } | null;
  answer: SettingsAnswer | null;
}) {
  const canWrite = can(me, 'lumaleasing:write');
  const s = answer?.settings;
  const color =
    s?.brandColor && /^#[0-9a-f]{6}$/i.test(s.brandColor) ? s.brandColor.toLowerCase() : DEFAULT_BRAND_COLOR;
  return (
    <section data-page="lumaleasing-settings" data-property-id={property?.id ?? ''}>
      <PageHeader
        title="LumaLeasing"
        subtitle="How the leasing assistant introduces itself on the property’s chat page and website widget."
        actions={
          property ? <PropertyPicker me={me} action="/admin/lumaleasing/settings" selected={property.id} /> : null
        }
      />
      <LumaTabs active="settings" />
      {!property || !answer || !s ? (
        <EmptyState title="No properties">Add a property first; chat settings belong to one property.</EmptyState>
      ) : (
        <div class="settings-layout">
          <form
            class="form card"
            data-api-form=""
            data-method="PUT"
            data-url={`/v1/lumaleasing/properties/${encodeURIComponent(property.id)}/settings`}
            data-then="flash-reload:Chat settings saved"
            data-settings-form=""
          >
            <h2 class="card-title">
              Assistant for <span data-property-name="">{property.name}</span>
            </h2>
            {canWrite ? null : (
              <p class="notice-inline small form-note">Only administrators change these settings; you can read them.</p>
            )}
            <fieldset class="plain-fieldset" disabled={!canWrite}>
              <label class="checkbox">
                <input type="checkbox" name="enabled" checked={s.enabled} />
                <span>
                  Chat enabled{' '}
                  <span class="muted small">
                    (off: the public page and the widget say the chat is unavailable and accept no messages)
                  </span>
                </span>
              </label>
              <div class="form-row">
                <label class="field grow">
                  <span>Assistant name</span>
                  <input
                    type="text"
                    name="botName"
                    value={s.botName ?? ''}
                    maxlength={60}
                    placeholder="Luma"
                    data-null-empty=""
                    data-preview-source="botName"
                  />
                </label>
                <label class="field">
                  <span>Tone</span>
                  <select name="tone">
                    {TONES.map((t) => (
                      <option value={t.value} selected={s.tone === t.value}>
                        {t.label} — {t.help}
                      </option>
                    ))}
                  </select>
                </label>
                <label class="field">
                  <span>Brand colour</span>
                  <span class="color-field">
                    <input type="color" name="brandColor" value={color} data-preview-source="brandColor" />
                    <code class="muted" data-color-value="">
                      {color}
                    </code>
                  </span>
                </label>
              </div>
              <label class="field">
                <span>Greeting</span>
                <textarea
                  name="greeting"
                  rows={3}
                  maxlength={500}
                  placeholder="Hi! I can answer questions about pets, parking, fees and more."
                  data-null-empty=""
                  data-preview-source="greeting"
                >
                  {s.greeting ?? ''}
                </textarea>
              </label>
            </fieldset>
            {canWrite ? (
              <>
                <FormError />
                <div class="form-actions">
                  <button type="submit" class="btn btn-primary">
                    Save settings
                  </button>
                </div>
              </>
            ) : null}
          </form>

          <div class="settings-side">
            <div class="card">
              <h2 class="card-title">Preview</h2>
              <div class="chat-preview" data-chat-preview="" data-brand-color={color}>
                <div class="chat-preview-head" data-preview="botName">
                  {s.botName || 'Luma'}
                </div>
                <div class="chat-preview-body">
                  <div class="chat-preview-bubble" data-preview="greeting">
                    {s.greeting || 'Hi! Ask me anything about the community.'}
                  </div>
                </div>
                <div class="chat-preview-launcher" aria-hidden="true">
                  Chat
                </div>
              </div>
            </div>
            <div class="card">
              <h2 class="card-title">Public chat page</h2>
              <p class="muted small">A page of its own, to link from listings, emails and QR codes.</p>
              <Copyable id="public-url" value={answer.publicUrl} />
              <p class="small">
                <a href={answer.publicUrl} target="_blank" rel="noopener noreferrer" data-public-url="">
                  Open the chat page ↗
                </a>
              </p>
            </div>
            <div class="card">
              <h2 class="card-title">Website widget</h2>
              <p class="muted small">
                Paste this before <code>&lt;/body&gt;</code> on the property’s website: a chat button appears in the
                corner.
              </p>
              <Copyable id="widget-snippet" value={answer.widgetSnippet} block />
            </div>
            {s.enabled ? null : (
              <FormErrorNote text="The chat is disabled: the page and the widget accept no messages until it is enabled." />
            )}
          </div>
        </div>
      )}
    </section>
  );
}

function FormErrorNote({ text }: { text: string }) {
  return (
    <p class="form-error" data-chat-disabled="">
      {text}
    </p>
  );
}
