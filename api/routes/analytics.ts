import { Hono } from 'hono';
import { z } from 'zod';
import { withTenant } from '../../db/tenancy';
import { chatModelFromConfig } from '../../integrations/llm';
import { answerQuestion } from '../analytics/ask';
import { createLlmSqlWriter, type SqlWriter } from '../analytics/llm-sql';
import { analyticsQuerySchema, resolvePropertyScope, runAnalyticsQuery } from '../analytics/query';
import { requireAuth, requirePermission, type AppDeps, type AppEnv } from '../context';
import { requireJsonBody, validate } from '../validation';

const askBody = z.strictObject({ question: z.string().trim().min(3, 'ask a question').max(500) });

/** The injected writer (tests), else a model from config (OPENAI_API_KEY), else none: the offline parser answers. */
function sqlWriterFor(deps: AppDeps): SqlWriter | null {
  if (deps.sqlWriter !== undefined) return deps.sqlWriter;
  const chat = chatModelFromConfig(deps.config);
  return chat ? createLlmSqlWriter(chat) : null;
}

/** MultiChannel BI. Mounted at /v1/analytics. */
export function createAnalyticsRoutes(deps: AppDeps) {
  const sqlWriter = sqlWriterFor(deps);
  return new Hono<AppEnv>()
    .post(
      '/query',
      requirePermission('analytics:read'),
      requireJsonBody(),
      validate('json', analyticsQuerySchema),
      async (c) => {
        const auth = requireAuth(c);
        const query = c.req.valid('json');
        const result = await withTenant(deps.db, auth.orgId, async (tx) => {
          const scope = await resolvePropertyScope(tx, auth.principal, query.propertyIds);
          return runAnalyticsQuery(tx, query, scope);
        });
        return c.json(result.response);
      },
    )
    .post('/ask', requirePermission('analytics:read'), requireJsonBody(), validate('json', askBody), async (c) => {
      const auth = requireAuth(c);
      const { question } = c.req.valid('json');
      const answer = await answerQuestion(
        { db: deps.db, now: deps.now ?? (() => new Date()), sqlWriter },
        auth,
        question,
      );
      return c.json(answer);
    });
}
