import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';

/** The one error body every API response uses: `{ error: { code, message, details } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details: unknown = null) =>
  new ApiError(400, 'invalid_request', message, details);
export const unauthorized = (message = 'Authentication required') => new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
/** Also what other organizations' records look like: existence is never leaked. */
export const notFound = (what = 'Resource') => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details: unknown = null) => new ApiError(409, 'conflict', message, details);

export function errorBody(code: string, message: string, details: unknown = null): ErrorBody {
  return { error: { code, message, details } };
}

/** Maps anything thrown by a handler to the error format; unknown errors are 500s whose details stay in the log. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json(errorBody(err.code, err.message, err.details), err.status);
  }
  if (err instanceof ZodError) {
    return c.json(errorBody('invalid_request', 'Request validation failed', err.issues), 400);
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    if (status === 413) return c.json(errorBody('payload_too_large', 'Request body is too large'), 413);
    if (status === 400 && /json/i.test(err.message)) {
      return c.json(errorBody('malformed_json', 'Request body is not valid JSON'), 400);
    }
    return c.json(errorBody(status >= 500 ? 'internal_error' : 'http_error', err.message || 'Request failed'), status);
  }
  console.error('[api] unhandled error', err);
  return c.json(errorBody('internal_error', 'Internal server error'), 500);
}
