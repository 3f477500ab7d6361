import type { Child } from 'hono/jsx';
import { enabledProductsInOrder, productHref, PRODUCTS } from './products';
import { can, type Me } from './pages/shared';

/** Versioned asset URLs (content hashes), so the browser may cache them forever. */
export interface AssetUrls {
  css: string;
  js: string;
  icon: string;
  /** Extra scripts a page needs (charts), loaded after admin.js in this order. */
  scripts?: string[];
}

export type NavKey = 'workflows' | 'webhooks' | 'settings' | `product:${string}`;

export function Document({ title, assets, children }: { title: string; assets: AssetUrls; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · P11 Console`}</title>
        <link rel="icon" type="image/svg+xml" href={assets.icon} />
        <link rel="stylesheet" href={assets.css} />
        <script src={assets.js} defer></script>
        {(assets.scripts ?? []).map((src) => (
          <script src={src} defer></script>
        ))}
      </head>
      {children}
    </html>
  );
}

function NavLink({
  href,
  active,
  children,
  title,
}: {
  href: string;
  active: boolean;
  children: Child;
  title?: string;
}) {
  return (
    <a
      href={href}
      class={active ? 'nav-link active' : 'nav-link'}
      aria-current={active ? 'page' : undefined}
      title={title}
    >
      {children}
    </a>
  );
}

/** The signed-in shell: organization, property switcher, navigation by permission, enabled products. */
export function Shell(props: { me: Me; title: string; active: NavKey | null; assets: AssetUrls; children: Child }) {
  const { me, active } = props;
  const showSettings = can(me, 'members:read') || can(me, 'api_keys:read');
  const products = enabledProductsInOrder(me.org.enabledProducts);
  return (
    <Document title={props.title} assets={props.assets}>
      <body class="app" data-role={me.role}>
        <aside class="sidebar">
          <a class="brand" href="/admin/workflows">
            <span class="brand-mark">P11</span>
            <span>Console</span>
          </a>
          <div class="org-card">
            <div class="org-name" data-org-name="">
              {me.org.name}
            </div>
            <div class="org-tier">{me.org.subscriptionTier} plan</div>
          </div>
          <nav class="nav" aria-label="Main">
            <NavLink href="/admin/workflows" active={active === 'workflows'}>
              Workflows
            </NavLink>
            <NavLink href="/admin/webhooks" active={active === 'webhooks'}>
              Webhooks
            </NavLink>
            {showSettings ? (
              <NavLink href="/admin/settings" active={active === 'settings'}>
                Users &amp; API keys
              </NavLink>
            ) : null}
          </nav>
          <div class="nav-section">Products</div>
          <nav class="nav" aria-label="Products" data-products="">
            {products.length === 0 ? <p class="nav-empty">No products enabled</p> : null}
            {products.map((id) => (
              <NavLink href={productHref(id)} active={active === `product:${id}`} title={PRODUCTS[id].description}>
                {PRODUCTS[id].label}
              </NavLink>
            ))}
          </nav>
        </aside>
        <div class="main">
          <header class="topbar">
            <label class="switcher">
              <span class="switcher-label">Property</span>
              <select id="property-switcher" name="propertyId" data-property-switcher="">
                <option value="" selected={me.propertyId === null}>
                  All properties
                </option>
                {me.properties.map((p) => (
                  <option value={p.id} selected={me.propertyId === p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <div class="user-box">
              <div class="user-meta">
                <span class="user-name">{me.user.name}</span>
                <span class="user-email">{me.user.email}</span>
              </div>
              <span class="badge badge-neutral" data-user-role="">
                {me.role}
              </span>
              <button type="button" class="btn btn-ghost btn-sm" data-sign-out="">
                Sign out
              </button>
            </div>
          </header>
          <div class="flash" id="flash" role="status" hidden></div>
          <main class="content">{props.children}</main>
        </div>
        <dialog class="reveal" id="reveal" aria-labelledby="reveal-title">
          <h2 id="reveal-title" data-reveal-title="">
            Copy this value now
          </h2>
          <p class="muted">It is shown only once. Store it somewhere safe before you close this window.</p>
          <div class="reveal-value">
            <code data-reveal-value=""></code>
            <button type="button" class="btn btn-sm" data-copy="">
              Copy
            </button>
          </div>
          <p class="muted reveal-note" data-reveal-note="" hidden></p>
          <div class="reveal-actions">
            <button type="button" class="btn btn-primary" data-reveal-done="">
              I’ve stored it
            </button>
          </div>
        </dialog>
      </body>
    </Document>
  );
}

/** Signed-out pages: one centred card. */
export function Bare({ title, assets, children }: { title: string; assets: AssetUrls; children: Child }) {
  return (
    <Document title={title} assets={assets}>
      <body class="bare">
        <main class="bare-main">
          <div class="brand brand-center">
            <span class="brand-mark">P11</span>
            <span>Console</span>
          </div>
          {children}
        </main>
      </body>
    </Document>
  );
}
