/**
 * The sample property documents of the two demo communities (db/seed.ts), as the files staff would upload:
 * Markdown, plain text and HTML as written, and PDFs generated from their `*.pdf.txt` sources (make-pdf.ts).
 * The demo uploads them through the API; `npm run eval:rag` and `npm run bench:lumaleasing` ingest them too.
 *
 * The two properties deliberately differ in every fact (pet deposit $300 vs $500, ...), so an answer that
 * leaks the other property's documents is detectable in the evaluation.
 */
import { readFile, readdir } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocumentContentType } from '../../db/schema/lumaleasing';
import { PDF_SOURCE_SUFFIX, makePdf, pdfFilenameFor } from './make-pdf';

export const SAMPLE_DOCUMENTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'documents');

/** The demo properties by their slug (the one the `properties` trigger derives from the seeded names). */
export const SAMPLE_PROPERTIES = {
  reserve: {
    name: 'The Reserve at Sandpoint',
    slug: 'the-reserve-at-sandpoint',
    /** The chat persona the demo configures (properties.settings.lumaleasing). */
    chat: {
      enabled: true,
      botName: 'Sandy',
      greeting:
        "Hi, I'm Sandy from The Reserve at Sandpoint! Ask me about pets, parking, fees, amenities or leases, or leave your details and our team will reach out.",
      tone: 'friendly',
      brandColor: '#2f6f5e',
    },
  },
  harbor: {
    name: 'Harbor View Lofts',
    slug: 'harbor-view-lofts',
    chat: {
      enabled: true,
      botName: 'Marina',
      greeting: "Welcome to Harbor View Lofts. I'm Marina, the building's virtual leasing assistant. How can I help?",
      tone: 'professional',
      brandColor: '#1f4e79',
    },
  },
} as const;

export type SamplePropertySlug = (typeof SAMPLE_PROPERTIES)[keyof typeof SAMPLE_PROPERTIES]['slug'];

export interface SampleDocument {
  propertySlug: string;
  /** The filename as uploaded (a PDF's, not its source's). */
  filename: string;
  /** The citation title ("Pet Policy"). */
  title: string;
  contentType: DocumentContentType;
  bytes: Uint8Array;
}

const CONTENT_TYPES: Record<string, DocumentContentType> = {
  '.md': 'text/markdown',
  '.txt': 'text/plain',
  '.html': 'text/html',
  '.pdf': 'application/pdf',
};

const SMALL_WORDS = new Set(['and', 'or', 'of', 'the', 'a', 'at', 'to']);

/** "fees-and-deposits.txt" → "Fees and Deposits". */
export function titleFromFilename(filename: string): string {
  return filename
    .slice(0, filename.length - extname(filename).length)
    .split(/[-_\s]+/)
    .filter(Boolean)
    .map((w, i) => (i > 0 && SMALL_WORDS.has(w) ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join(' ');
}

/** Every sample document of one property (by slug), PDFs rendered in memory; sorted by filename. */
export async function loadSampleDocuments(propertySlug: string): Promise<SampleDocument[]> {
  const dir = join(SAMPLE_DOCUMENTS_DIR, propertySlug);
  const files = (await readdir(dir)).sort();
  const docs: SampleDocument[] = [];
  for (const file of files) {
    if (file.endsWith(PDF_SOURCE_SUFFIX)) {
      const filename = pdfFilenameFor(file);
      const bytes = await makePdf(await readFile(join(dir, file), 'utf8'));
      docs.push({ propertySlug, filename, title: titleFromFilename(filename), contentType: 'application/pdf', bytes });
      continue;
    }
    const contentType = CONTENT_TYPES[extname(file)];
    if (!contentType || contentType === 'application/pdf') continue;
    const bytes = new Uint8Array(await readFile(join(dir, file)));
    docs.push({ propertySlug, filename: file, title: titleFromFilename(file), contentType, bytes });
  }
  return docs.sort((a, b) => a.filename.localeCompare(b.filename));
}
