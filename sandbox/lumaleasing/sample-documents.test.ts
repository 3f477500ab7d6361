import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectDocumentType, extractDocumentText } from '../../activities/lumaleasing-text';
import { SAMPLE_DOCUMENTS_DIR, SAMPLE_PROPERTIES, loadSampleDocuments, titleFromFilename } from './sample-documents';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const slugs = [SAMPLE_PROPERTIES.reserve.slug, SAMPLE_PROPERTIES.harbor.slug];

describe('sample LumaLeasing documents', () => {
  it.each(slugs)('%s: every format, a multi-page PDF, readable by the pipeline', async (slug) => {
    const docs = await loadSampleDocuments(slug);
    expect(new Set(docs.map((d) => d.contentType))).toEqual(
      new Set(['application/pdf', 'text/markdown', 'text/plain', 'text/html']),
    );
    for (const doc of docs) {
      expect(detectDocumentType(doc.filename, doc.bytes)).toBe(doc.contentType);
      const { pages } = await extractDocumentText(doc.bytes, doc.contentType);
      if (doc.contentType === 'application/pdf') expect(pages.length).toBeGreaterThan(1);
      expect(pages.every((p) => p.text.trim().length > 0)).toBe(true);
    }
  });

  it('renders PDFs byte-for-byte the same every time (the demo skips unchanged documents by sha256)', async () => {
    const first = await loadSampleDocuments(SAMPLE_PROPERTIES.harbor.slug);
    const second = await loadSampleDocuments(SAMPLE_PROPERTIES.harbor.slug);
    expect(first.map((d) => sha256(d.bytes))).toEqual(second.map((d) => sha256(d.bytes)));
  });

  it('gives the two properties different facts, so leaking the other property is detectable', () => {
    const reserve = readFileSync(join(SAMPLE_DOCUMENTS_DIR, SAMPLE_PROPERTIES.reserve.slug, 'pet-policy.md'), 'utf8');
    const harbor = readFileSync(join(SAMPLE_DOCUMENTS_DIR, SAMPLE_PROPERTIES.harbor.slug, 'pet-policy.html'), 'utf8');
    expect(reserve).toContain('$300 per pet');
    expect(reserve).not.toContain('$500');
    expect(harbor).toContain('$500');
    expect(harbor).not.toContain('$300');
  });

  it('titles documents from their filenames', () => {
    expect(titleFromFilename('fees-and-deposits.txt')).toBe('Fees and Deposits');
    expect(titleFromFilename('move-in-guide.html')).toBe('Move In Guide');
  });
});
