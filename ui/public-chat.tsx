/**
 * The public chat surfaces served by the API without sign-in: the embeddable `/widget.js` and the branded
 * full-page chat `/chat/<org-slug>/<property-slug>`, which is the same widget in page mode. Both talk to
 * /public/chat (api/routes/public-chat.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { raw } from 'hono/html';
import type { AppDeps } from '../api/context';
import { isChatOpen, presentPublicProperty } from '../api/routes/public-chat';
import { findPublicChatPropertyBySlugs } from '../db/system';

const WIDGET = (() => {
  const body = readFileSync(new URL('./assets/widget.js', import.meta.url));
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { body: new Uint8Array(body), etag: `"${version}"`, version };
})();

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** Org slugs are chosen by people at sign-up; anything outside this shape is not one. */
const ORG_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The page's own styles; the brand colour is a validated #rrggbb (api/lumaleasing-shared.ts), safe to inline. */
function pageStyles(brandColor: string) {
  return `
:root { --brand: ${brandColor}; color-scheme: light; }
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: #f4f5f7; color: #1d2430; }
header.top { background: var(--brand); color: #fff; padding: 14px 20px; display: flex; flex-wrap: wrap;
  align-items: baseline; gap: 4px 16px; }
header.top h1 { font-size: 18px; margin: 0; font-weight: 650; }
header.top .office { font-size: 13px; opacity: .92; display: flex; gap: 12px; flex-wrap: wrap; }
header.top a { color: inherit; }
main#p11-chat { flex: 1; min-height: 0; width: 100%; max-width: 760px; margin: 0 auto; padding: 12px; display: flex; }
.notice { margin: auto; padding: 24px; text-align: center; color: #566; }
`;
}

function ChatPage(props: { property: ReturnType<typeof presentPublicProperty>; widgetSrc: string; nonce: string }) {
  const p = props.property;
  const brand = p.brandColor ?? '#1f6feb';
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="theme-color" content={brand} />
        <link rel="icon" href="data:," />
        <meta name="robots" content="noindex" />
        <title>{`${p.botName} · ${p.name}`}</title>
        <style nonce={props.nonce}>{raw(pageStyles(brand))}</style>
        <script src={props.widgetSrc} data-property={p.id} data-mode="page" data-target="p11-chat" defer></script>
      </head>
      <body>
        <header class="top">
          <h1>{p.name}</h1>
          <div class="office">
            {p.officePhone ? <a href={`tel:${p.officePhone}`}>{p.officePhone}</a> : null}
            {p.officeEmail ? <a href={`mailto:${p.officeEmail}`}>{p.officeEmail}</a> : null}
          </div>
        </header>
        <main id="p11-chat" aria-label={`Chat with ${p.botName}`}>
          <noscript>
            <p class="notice">The chat needs JavaScript. You can reach the leasing office directly.</p>
          </noscript>
        </main>
      </body>
    </html>
  );
}

function NotFoundPage({ nonce }: { nonce: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>Chat not found</title>
        <style nonce={nonce}>{raw(pageStyles('#566070'))}</style>
      </head>
      <body>
        <p class="notice">This chat does not exist or is switched off.</p>
      </body>
    </html>
  );
}

function pageHeaders(nonce: string): Record<string, string> {
  return {
    // The page may be framed by the property's own website; it carries no staff data.
    'content-security-policy':
      `default-src 'none'; script-src 'self'; style-src 'self' 'nonce-${nonce}'; connect-src 'self'; ` +
      "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors *",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'cache-control': 'no-store',
  };
}

/** Mounted at the root: GET /widget.js and GET /chat/:orgSlug/:propertySlug. */
export function createPublicChatUi(deps: AppDeps): Hono {
  return new Hono()
    .get('/widget.js', (c) => {
      const versioned = c.req.query('v') === WIDGET.version;
      const headers: Record<string, string> = {
        'content-type': 'text/javascript; charset=utf-8',
        etag: WIDGET.etag,
        'x-content-type-options': 'nosniff',
        'access-control-allow-origin': '*',
        // Websites embed the unversioned URL: short caching so a fix reaches them within minutes.
        'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      };
      if (c.req.header('if-none-match') === WIDGET.etag) return c.body(null, 304, headers);
      return c.body(WIDGET.body, 200, headers);
    })

    .get('/chat/:orgSlug/:propertySlug', async (c) => {
      const nonce = randomBytes(16).toString('base64');
      for (const [k, v] of Object.entries(pageHeaders(nonce))) c.header(k, v);
      const orgSlug = c.req.param('orgSlug');
      const propertySlug = c.req.param('propertySlug');
      const found =
        ORG_SLUG.test(orgSlug) && SLUG.test(propertySlug)
          ? await findPublicChatPropertyBySlugs(deps.db, orgSlug, propertySlug)
          : null;
      // The same rules as the public API: the org has LumaLeasing and the chat is not switched off.
      const open = isChatOpen(found) ? found : null;
      if (!open) return c.html('<!DOCTYPE html>' + (await (<NotFoundPage nonce={nonce} />)), 404);
      const page = (
        <ChatPage property={presentPublicProperty(open)} widgetSrc={`/widget.js?v=${WIDGET.version}`} nonce={nonce} />
      );
      return c.html('<!DOCTYPE html>' + (await page));
    });
}
