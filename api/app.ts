import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { authMiddleware } from './auth';
import type { AppDeps, AppEnv } from './context';
import { ApiError, errorBody, handleError } from './errors';
import { rateLimit } from './rate-limit';
import { createAnalyticsRoutes } from './routes/analytics';
import { createApiKeyRoutes } from './routes/api-keys';
import { createAuditLogRoutes } from './routes/audit-log';
import { createAuthRoutes, createMeRoutes } from './routes/auth';
import { createDataLakeRoutes } from './routes/data-lake';
import { createHealthRoutes } from './routes/health';
import { createLeadPulseRoutes } from './routes/leadpulse';
import { createLeadRoutes } from './routes/leads';
import { createLumaLeasingRoutes, isDocumentUpload } from './routes/lumaleasing';
import { createMemberRoutes } from './routes/members';
import { createOrgRoutes } from './routes/org';
import { createPropertyRoutes } from './routes/properties';
import { createProviderWebhookRoutes, isInboundParse } from './routes/provider-webhooks';
import { createGoogleWebhookRoutes } from './routes/google-webhooks';
import { createReviewRoutes } from './routes/reviews';
import { createReviewFlowRoutes } from './routes/reviewflow';
import { createPublicChatRoutes } from './routes/public-chat';
import { createTourSparkRoutes } from './routes/tourspark';
import { createWebhookRoutes } from './routes/webhooks';
import { createWorkflowRoutes } from './routes/workflows';
import { createAdminUi } from '../ui/admin';
import { createPublicChatUi } from '../ui/public-chat';

/**
 * The HTTP API. Order matters: Hono runs handlers in registration order, so routes mounted before
 * `app.use('/v1/*', …)` (health, sign-in) are answered without auth, and everything after it is behind
 * auth and then the per-organization rate limit.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const sameOriginHeaders = secureHeaders();
  // The chat API and /widget.js are fetched by other websites (the widget's host pages): their resources
  // must be loadable cross-origin. The public chat page may be framed by a property's own site.
  const crossOriginHeaders = secureHeaders({ crossOriginResourcePolicy: 'cross-origin' });
  const framableHeaders = secureHeaders({ xFrameOptions: false });
  app.use('*', (c, next) => {
    const path = c.req.path;
    if (path === '/widget.js' || path.startsWith('/public/')) return crossOriginHeaders(c, next);
    if (path.startsWith('/chat/')) return framableHeaders(c, next);
    return sameOriginHeaders(c, next);
  });
  const globalBodyLimit = bodyLimit({
    maxSize: deps.config.bodyLimitBytes,
    onError: () => {
      throw new ApiError(413, 'payload_too_large', `Request body exceeds ${deps.config.bodyLimitBytes} bytes`);
    },
  });
  // Document uploads and SendGrid Inbound Parse (whole emails) have their own, larger limits on their routes.
  app.use('*', (c, next) =>
    isDocumentUpload(c.req.method, c.req.path) || isInboundParse(c.req.method, c.req.path)
      ? next()
      : globalBodyLimit(c, next),
  );
  app.onError(handleError);
  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}`), 404));

  // Public.
  app.route('/health', createHealthRoutes(deps));
  app.route('/v1/auth', createAuthRoutes(deps));
  // LumaLeasing's visitor-facing chat: no staff credentials, its own per-visitor and per-property limits.
  app.route('/public/chat', createPublicChatRoutes(deps));
  // Twilio and SendGrid webhooks: no staff credentials; each route checks the provider's signature or secret.
  app.route('/webhooks', createProviderWebhookRoutes(deps));
  // Business Profile review notifications (Pub/Sub push): the Google-signed OIDC token is checked on the route.
  app.route('/webhooks/google', createGoogleWebhookRoutes(deps));
  app.route('/', createPublicChatUi(deps));

  // Everything below needs an API key or a session.
  app.use('/v1/*', authMiddleware(deps));
  app.use('/v1/*', rateLimit(deps.rateLimiter));

  app.route('/v1/me', createMeRoutes(deps));
  app.route('/v1/org', createOrgRoutes(deps));
  app.route('/v1/properties', createPropertyRoutes(deps));
  app.route('/v1/members', createMemberRoutes(deps));
  app.route('/v1/api-keys', createApiKeyRoutes(deps));
  app.route('/v1/audit-log', createAuditLogRoutes(deps));
  app.route('/v1/workflows', createWorkflowRoutes(deps));

  // ── Product routers mount here (after auth + rate limit), one line each: ──
  //   app.route('/v1', createWebhookRoutes(deps));   // api/routes/webhooks.ts
  //   createAdminUi(deps, app);                     // ui/admin.tsx, serves /admin (does its own session check)
  // Every route with a path parameter is walked by api/tenancy.test.ts: add the parameter's org-B record there.
  app.route('/v1', createWebhookRoutes(deps));
  app.route(
    '/v1/data-lake',
    createDataLakeRoutes(deps, {
      taskQueue: deps.etlTaskQueues?.etl,
      backfillTaskQueue: deps.etlTaskQueues?.etlBackfill,
    }),
  );
  app.route('/v1/analytics', createAnalyticsRoutes(deps));
  app.route('/v1/lumaleasing', createLumaLeasingRoutes(deps));
  app.route('/v1/leads', createLeadRoutes(deps));
  app.route('/v1/tourspark', createTourSparkRoutes(deps));
  app.route('/v1/leadpulse', createLeadPulseRoutes(deps));
  app.route('/v1/reviews', createReviewRoutes(deps));
  app.route('/v1/reviewflow', createReviewFlowRoutes(deps));
  app.route('/admin', createAdminUi(deps, app));

  return app;
}
