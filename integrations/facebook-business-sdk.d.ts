/**
 * The part of facebook-nodejs-business-sdk (which ships no TypeScript types) that integrations/meta-ads.ts uses.
 * Shapes follow the SDK's source (src/api.js, src/cursor.js, src/abstract-crud-object.js, src/exceptions.js).
 */
declare module 'facebook-nodejs-business-sdk' {
  export class FacebookAdsApi {
    constructor(accessToken: string, locale?: string, crashLog?: boolean);
    static init(accessToken: string, locale?: string, crashLog?: boolean): FacebookAdsApi;
    static readonly VERSION: string;
    static readonly GRAPH: string;
    accessToken: string;
    locale: string;
    call(
      method: string,
      path: string | string[],
      params?: Record<string, unknown>,
      files?: Record<string, unknown>,
      useMultipartFormData?: boolean,
      urlOverride?: string,
    ): Promise<unknown>;
  }

  export interface CursorPaging {
    cursors?: { before?: string; after?: string };
    next?: string;
    previous?: string;
  }

  /** An edge page: an array of objects plus the response's paging. */
  export interface Cursor extends Array<{ _data: Record<string, unknown> }> {
    paging?: CursorPaging;
    hasNext(): boolean;
    next(): Promise<Cursor>;
  }

  export class AdAccount {
    constructor(id: string, data?: Record<string, unknown>, parentId?: string, api?: FacebookAdsApi);
    getInsights(fields: string[], params?: Record<string, unknown>, fetchFirstPage?: boolean): Promise<Cursor>;
  }
}
