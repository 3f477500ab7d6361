import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import type { AppEnv } from '../api/context';
import { SAMPLE_PROPERTIES, loadSampleDocuments } from '../sandbox/lumaleasing/sample-documents';

interface DocumentListItem {
  id: string;
  filename: string;
  latestVersion: number;
  sha256?: string | null;
}

interface DocumentDetail {
  document: DocumentListItem;
  versions: { version: number; sha256: string }[];
}

export interface DemoLumaLeasingResult {
  /** "<property-slug>/<filename>" of every document uploaded by this call (each starts an ingestion run). */
  uploaded: string[];
  /** Documents whose latest version already has the same bytes. */
  unchanged: string[];
  /** Properties whose chat persona was configured by this call. */
  configured: string[];
}

/**
 * Gives the two demo communities their LumaLeasing documents and chat persona, through the public API with
 * the demo key (the path an integration or the admin UI takes), so the chat answers right after `npm start`.
 *
 * Idempotent across restarts: a document whose latest version already has the same SHA-256 is skipped, so a
 * restart starts no ingestion (the sample PDFs are rendered deterministically for exactly this reason); an
 * edited sample file becomes a new version of its document. The persona is written only while the property
 * has none (no bot name yet), so changes staff make in the admin UI survive restarts.
 */
export async function seedDemoLumaLeasing(
  app: Hono<AppEnv>,
  apiKey: string,
  properties: { reserveId: string; harborId: string },
): Promise<DemoLumaLeasingResult> {
  const auth = { authorization: `Bearer ${apiKey}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const result: DemoLumaLeasingResult = { uploaded: [], unchanged: [], configured: [] };
  const targets = [
    { propertyId: properties.reserveId, sample: SAMPLE_PROPERTIES.reserve },
    { propertyId: properties.harborId, sample: SAMPLE_PROPERTIES.harbor },
  ];

  for (const { propertyId, sample } of targets) {
    const listed = await app.request(`/v1/lumaleasing/documents?propertyId=${propertyId}`, { headers: auth });
    if (!listed.ok) throw new Error(`Could not list demo documents: ${listed.status} ${await listed.text()}`);
    const { documents } = (await listed.json()) as { documents: DocumentListItem[] };
    const byFilename = new Map(documents.map((d) => [d.filename, d]));

    for (const doc of await loadSampleDocuments(sample.slug)) {
      const label = `${sample.slug}/${doc.filename}`;
      const existing = byFilename.get(doc.filename);
      if (existing && (await latestSha256(app, auth, existing)) === sha256(doc.bytes)) {
        result.unchanged.push(label);
        continue;
      }
      const form = new FormData();
      form.set('propertyId', propertyId);
      form.set('title', doc.title);
      form.set('file', new File([doc.bytes.slice()], doc.filename, { type: doc.contentType }));
      const uploaded = await app.request('/v1/lumaleasing/documents', { method: 'POST', headers: auth, body: form });
      if (uploaded.status !== 202) {
        throw new Error(`Could not upload the demo document ${label}: ${uploaded.status} ${await uploaded.text()}`);
      }
      result.uploaded.push(label);
    }

    const current = await app.request(`/v1/lumaleasing/properties/${propertyId}/settings`, { headers: auth });
    if (!current.ok) throw new Error(`Could not read demo chat settings: ${current.status} ${await current.text()}`);
    const { settings } = (await current.json()) as { settings: { botName: string | null } };
    if (settings.botName) continue;
    const saved = await app.request(`/v1/lumaleasing/properties/${propertyId}/settings`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify(sample.chat),
    });
    if (!saved.ok) throw new Error(`Could not save demo chat settings: ${saved.status} ${await saved.text()}`);
    result.configured.push(sample.slug);
  }
  return result;
}

async function latestSha256(app: Hono<AppEnv>, headers: Record<string, string>, doc: DocumentListItem) {
  if (doc.sha256) return doc.sha256;
  const res = await app.request(`/v1/lumaleasing/documents/${doc.id}`, { headers });
  if (!res.ok) throw new Error(`Could not read demo document ${doc.filename}: ${res.status} ${await res.text()}`);
  const { document, versions } = (await res.json()) as DocumentDetail;
  return versions.find((v) => v.version === document.latestVersion)?.sha256 ?? null;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
