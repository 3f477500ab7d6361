import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { ZodType } from 'zod';
import { ApiError } from './errors';

/**
 * zod validation for every input, with failures in the one error format. JSON bodies must say they are
 * JSON (415 otherwise: Hono would silently treat a form body as `{}`); objects should be `z.strictObject`
 * so unknown fields are rejected instead of dropped.
 */
export function validate<T extends ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return zValidator(target, schema, (result, c) => {
    if (!result.success) {
      throw new ApiError(400, 'invalid_request', describeIssues(result.error.issues), result.error.issues);
    }
    return undefined;
  });
}

/** Rejects a body that is not declared as JSON before the validator reads it. */
export function requireJsonBody() {
  return async (c: import('hono').Context, next: () => Promise<void>) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) {
      throw new ApiError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json');
    }
    await next();
  };
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const first = issues.slice(0, 3).map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  return `Invalid request: ${first.join('; ')}${issues.length > 3 ? ` (+${issues.length - 3} more)` : ''}`;
}
