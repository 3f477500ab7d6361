/**
 * From an uploaded file to the chunks LumaLeasing embeds: recognise the format, pull out the text (PDF pages
 * keep their numbers so answers can cite "Pet Policy, p. 2"), and cut it into ~500-token chunks on natural
 * boundaries. Pure functions of the bytes: no database, no clock, so retries and tests give the same chunks.
 */
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { convert as htmlToText, type FormatCallback } from 'html-to-text';
import { Tiktoken } from 'js-tiktoken/lite';
import { createHash } from 'node:crypto';
import { getDocumentProxy } from 'unpdf';
import type { DocumentChunkMetadata, DocumentContentType } from '../db/schema/lumaleasing';

/** The file cannot be turned into text; the message says why in words staff can act on. */
export class DocumentUnreadableError extends Error {
  override readonly name = 'DocumentUnreadableError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface ExtractedHeading {
  /** Where the heading's line starts in the page text. */
  offset: number;
  text: string;
}

export interface ExtractedPage {
  /** 1-based PDF page; null for formats without pages (the whole file is one "page"). */
  page: number | null;
  text: string;
  /** Headings in the text, in order (Markdown/HTML headings; larger-type lines in PDFs). */
  headings?: ExtractedHeading[];
}

export interface ExtractedDocument {
  pages: ExtractedPage[];
}

export interface Chunk {
  /** 0-based position in the document, after duplicates were dropped (the `chunk_index` column). */
  index: number;
  content: string;
  tokenCount: number;
  /** SHA-256 of the normalised content (case, Unicode form and whitespace folded). */
  contentSha256: string;
  metadata: DocumentChunkMetadata;
}

export interface ChunkOptions {
  /** Shown in citations; stored as `metadata.source`. */
  title: string;
  chunkTokens?: number;
  overlapTokens?: number;
}

export interface ChunkedDocument {
  chunks: Chunk[];
  /** Chunks dropped because an identical one (by normalised content) came earlier in the document. */
  duplicates: number;
}

// ── Format detection ─────────────────────────────────────────────────────────────────────────────────────

const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/** Formats we refuse even when they carry a text extension (a renamed DOCX is still a ZIP). */
const BINARY_MAGIC = [
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0x50, 0x4b, 0x03, 0x04], // ZIP: DOCX, XLSX, ODT, …
  [0xd0, 0xcf, 0x11, 0xe0], // OLE: DOC, XLS
  [0x52, 0x49, 0x46, 0x46], // RIFF: WEBP, WAV
  [0x1f, 0x8b], // gzip
  [0x7b, 0x5c, 0x72, 0x74, 0x66], // {\rtf
];

const hasUtf16Bom = (bytes: Uint8Array) => startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff]);

function looksBinary(bytes: Uint8Array): boolean {
  if (BINARY_MAGIC.some((m) => startsWith(bytes, m))) return true;
  if (hasUtf16Bom(bytes)) return false;
  const sample = bytes.subarray(0, 8192);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return true;
    // Tab, line feed, form feed, carriage return and escape appear in real text files; the rest do not.
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) control++;
  }
  return control > sample.length * 0.05;
}

function extensionOf(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

const HTML_START = /^\s*(?:<!--[\s\S]*?-->\s*)*(?:<!doctype\s+html|<html[\s>])/i;

/**
 * The document's format, or null when we cannot read it (images, Office files, other binaries, unknown
 * extensions). PDFs are recognised by content (`%PDF-` near the start, as PDF readers do), whatever the name.
 */
export function detectDocumentType(filename: string, bytes: Uint8Array): DocumentContentType | null {
  if (bytes.length === 0) return null;
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (head.includes('%PDF-')) return 'application/pdf';
  if (looksBinary(bytes)) return null;
  const ext = extensionOf(filename);
  if (ext === 'html' || ext === 'htm') return 'text/html';
  if (ext === 'md' || ext === 'markdown') return 'text/markdown';
  if (HTML_START.test(decodeText(bytes.subarray(0, 4096)))) return 'text/html';
  if (ext === 'txt' || ext === 'text') return 'text/plain';
  return null;
}

// ── Text extraction ──────────────────────────────────────────────────────────────────────────────────────

// Windows-1252's 0x80-0x9F (Node's TextDecoder decodes that label as Latin-1, where these are control codes).
const CP1252_HIGH =
  '\u20ac\ufffd\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\ufffd\u017d\ufffd' +
  '\ufffd\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\ufffd\u017e\u0178';

function decodeWindows1252(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b);
  return out;
}

/** UTF-8 (with or without BOM), UTF-16 with BOM; anything else that is not valid UTF-8 is read as Windows-1252. */
function decodeText(bytes: Uint8Array): string {
  if (startsWith(bytes, [0xff, 0xfe])) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (startsWith(bytes, [0xfe, 0xff])) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) bytes = bytes.subarray(3);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

/**
 * Runs of more than this many characters without whitespace (pasted data, base64, rows of dashes) are cut with
 * spaces: they answer no question, and the tokenizer's merge step is quadratic in the length of a "word".
 */
const LONG_RUN = /\S{101,}/g;
const RUN_PIECE = /[\s\S]{1,100}/gu;

/** One form for all formats: \n line ends, no control characters, at most one blank line between paragraphs. */
function normaliseText(text: string): string {
  return text
    .replace(LONG_RUN, (run) => run.match(RUN_PIECE)!.join(' '))
    .replace(/\r\n?/g, '\n')
    .replace(/[\u00a0\u2007\u202f\t\f\v]/g, ' ')
    .replace(/[\u0000-\u0008\u000e-\u001f\u007f\u200b\ufeff]/g, '')
    .replace(/[ ]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const hasWords = (text: string) => /[\p{L}\p{N}]/u.test(text);

const ATX_HEADING = /^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(```|~~~)/;

/** Markdown headings (ATX `## Pets` and setext underlines), skipping fenced code. */
function markdownHeadings(text: string): ExtractedHeading[] {
  const headings: ExtractedHeading[] = [];
  const lines = text.split('\n');
  let offset = 0;
  let inFence = false;
  let previous: { offset: number; text: string } | null = null;
  for (const line of lines) {
    if (FENCE.test(line)) {
      inFence = !inFence;
    } else if (!inFence) {
      const atx = ATX_HEADING.exec(line);
      if (atx) {
        headings.push({ offset, text: cleanHeading(atx[2]!) });
      } else if (previous && SETEXT_UNDERLINE.test(line) && !/^\s*[-*+>|]/.test(previous.text)) {
        headings.push({ offset: previous.offset, text: cleanHeading(previous.text) });
      }
    }
    previous = line.trim() && !inFence ? { offset, text: line } : null;
    offset += line.length + 1;
  }
  return headings;
}

const cleanHeading = (text: string) =>
  text
    .replace(/[*_`]+/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);

/** HTML headings become Markdown ones (`## Pet Policy`), so the chunker finds them the same way. */
const markdownHeadingFormatter: FormatCallback = (elem, walk, builder, formatOptions) => {
  const level = Number((formatOptions as { level?: number }).level ?? 1);
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addLiteral(`${'#'.repeat(level)} `);
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

function htmlText(html: string): string {
  return htmlToText(html, {
    wordwrap: false,
    formatters: { markdownHeading: markdownHeadingFormatter },
    selectors: [
      ...[1, 2, 3, 4, 5, 6].map((level) => ({
        selector: `h${level}`,
        format: 'markdownHeading',
        options: { level } as Record<string, unknown>,
      })),
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      // Fee sheets are tables: keep each row on a line with its cells apart ("Pet fee   $300").
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false, maxColumnWidth: 200 } },
      // Page chrome and code, not content a visitor asks about.
      { selector: 'nav', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'noscript', format: 'skip' },
      { selector: 'template', format: 'skip' },
      { selector: 'svg', format: 'skip' },
      { selector: 'form', format: 'skip' },
    ],
  });
}

interface PdfLine {
  text: string;
  /** Baseline, PDF units from the bottom of the page. */
  y: number;
  size: number;
  /** Left and right ends of the line. */
  x: number;
  endX: number;
}

interface PdfTextItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL: boolean;
}

/**
 * The page's text items as lines. pdf.js gives runs of text with positions; a line ends where it says so
 * (hasEOL) or where the baseline moves, and a space is added where two runs on a line have a gap between them.
 */
function pdfLines(items: PdfTextItem[]): PdfLine[] {
  const lines: PdfLine[] = [];
  let current: PdfLine | null = null;
  const flush = () => {
    if (current) {
      const text = current.text.replace(/\s+/g, ' ').trim();
      if (text) lines.push({ ...current, text });
    }
    current = null;
  };
  for (const item of items) {
    const [, , c = 0, d = 0, x = 0, y = 0] = item.transform;
    const size = Math.hypot(c, d) || item.height || 1;
    if (current && Math.abs(y - current.y) > Math.max(current.size, size) * 0.5) flush();
    if (!current) {
      current = { text: item.str, y, size, x, endX: x + item.width };
    } else {
      const gap = x - current.endX;
      const needsSpace = gap > size * 0.15 && !/\s$/.test(current.text) && !/^\s/.test(item.str);
      current.text += (needsSpace ? ' ' : '') + item.str;
      current.size = Math.max(current.size, item.str.trim() ? size : 0);
      current.endX = x + item.width;
    }
    if (item.hasEOL) flush();
  }
  flush();
  return lines;
}

/** The size most of the document's characters are set in (body text); larger lines are headings. */
function bodyFontSize(pages: PdfLine[][]): number {
  const chars = new Map<number, number>();
  for (const line of pages.flat()) {
    const size = Math.round(line.size * 2) / 2;
    chars.set(size, (chars.get(size) ?? 0) + line.text.length);
  }
  let best = 0;
  let bestCount = -1;
  for (const [size, count] of chars) if (count > bestCount) [best, bestCount] = [size, count];
  return best;
}

/**
 * Lines into paragraphs: a blank line where the vertical gap is clearly more than the line spacing. Inside a
 * paragraph, a line that runs (nearly) to the right margin was wrapped by the layout, so the next line
 * continues it after a space; a short line (a list item, an address line) keeps its line break.
 */
function pdfPageText(lines: PdfLine[], bodySize: number): { text: string; headings: ExtractedHeading[] } {
  let text = '';
  const headings: ExtractedHeading[] = [];
  const left = Math.min(...lines.map((l) => l.x));
  const right = Math.max(...lines.map((l) => l.endX));
  let previous: PdfLine | null = null;
  for (const line of lines) {
    const heading = bodySize > 0 && line.size >= bodySize * 1.15 && line.text.length <= 120 && /\p{L}/u.test(line.text);
    if (previous) {
      const drop = previous.y - line.y;
      const lineHeight = Math.max(previous.size, line.size);
      // Moving up (a new column) or down by clearly more than a line, or a heading: a new paragraph.
      const paragraph = drop < 0 || drop > lineHeight * 1.6 || heading || previous.size >= bodySize * 1.15;
      const wrapped = previous.endX - left >= (right - left) * 0.75;
      text += paragraph ? '\n\n' : !wrapped ? '\n' : previous.text.endsWith('-') ? '' : ' ';
    }
    if (heading) headings.push({ offset: text.length, text: cleanHeading(line.text) });
    text += line.text;
    previous = line;
  }
  return { text, headings };
}

function describePdfError(err: unknown): DocumentUnreadableError {
  const name = (err as Error | null)?.name ?? '';
  const detail = err instanceof Error ? err.message : String(err);
  if (name === 'PasswordException') {
    return new DocumentUnreadableError(
      'The PDF is password-protected (encrypted). Upload a copy saved without a password.',
    );
  }
  return new DocumentUnreadableError(
    `The PDF could not be read; the file is damaged or not a valid PDF (${detail.slice(0, 200)}).`,
  );
}

async function extractPdf(bytes: Uint8Array): Promise<ExtractedDocument> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // A copy: pdf.js may take ownership of (detach) the buffer it is given.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (err) {
    throw describePdfError(err);
  }
  try {
    const linesByPage: PdfLine[][] = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      linesByPage.push(pdfLines(content.items.filter((i) => 'str' in i) as PdfTextItem[]));
      page.cleanup();
    }
    const bodySize = bodyFontSize(linesByPage);
    const pages = linesByPage.map((lines, i) => {
      const { text, headings } = pdfPageText(lines, bodySize);
      const normalised = normaliseText(text);
      // Normalising can drop characters (zero-width spaces), which moves the headings' offsets.
      return {
        page: i + 1,
        text: normalised,
        headings: normalised === text ? headings : reanchor(normalised, headings),
      };
    });
    if (!pages.some((p) => hasWords(p.text))) {
      throw new DocumentUnreadableError(
        pdf.numPages === 0
          ? 'The PDF has no pages.'
          : 'The PDF has no text layer (a scan or images only). Upload a PDF with selectable text, or run OCR on it first.',
      );
    }
    return { pages };
  } catch (err) {
    if (err instanceof DocumentUnreadableError) throw err;
    throw describePdfError(err);
  } finally {
    await pdf.destroy();
  }
}

/** Finds each heading again in the normalised text (in order), dropping any that no longer appear. */
function reanchor(text: string, headings: ExtractedHeading[]): ExtractedHeading[] {
  const found: ExtractedHeading[] = [];
  let from = 0;
  for (const h of headings) {
    const at = text.indexOf(h.text, from);
    if (at < 0) continue;
    found.push({ offset: at, text: h.text });
    from = at + h.text.length;
  }
  return found;
}

/**
 * The document's text, by page for PDFs (1-based page numbers) and as one page (null) otherwise. Throws
 * DocumentUnreadableError for damaged or encrypted PDFs and for files with no text at all.
 */
export async function extractDocumentText(bytes: Uint8Array, type: DocumentContentType): Promise<ExtractedDocument> {
  if (bytes.length === 0) throw new DocumentUnreadableError('The file is empty.');
  if (type === 'application/pdf') return extractPdf(bytes);
  const raw = decodeText(bytes);
  const text = normaliseText(type === 'text/html' ? htmlText(raw) : raw);
  if (!hasWords(text)) throw new DocumentUnreadableError('The file contains no text.');
  const headings = type === 'text/plain' ? [] : markdownHeadings(text);
  return { pages: [{ page: null, text, headings }] };
}

// ── Chunking ─────────────────────────────────────────────────────────────────────────────────────────────

let encoder: Tiktoken | null = null;

/** cl100k_base, the tokenizer of OpenAI's embedding models; loaded on first use (its ranks are ~1 MB). */
async function tokenizer(): Promise<Tiktoken> {
  if (!encoder) {
    const { default: ranks } = await import('js-tiktoken/ranks/cl100k_base');
    encoder = new Tiktoken(ranks);
  }
  return encoder;
}

/** Tokens in `text` as text-embedding-3-small counts them. Special-token text ("<|endoftext|>") is plain text. */
export async function countTokens(text: string): Promise<number> {
  return (await tokenizer()).encode(text, [], []).length;
}

/**
 * RecursiveCharacterTextSplitter keeps a separator at the start of the next piece, so a sentence split would
 * begin with ". "; here a separator stays at the end of the piece it closes, and pieces join back losslessly.
 */
class BoundarySplitter extends RecursiveCharacterTextSplitter {
  protected override splitOnSeparator(text: string, separator: string): string[] {
    if (!separator) return Array.from(text);
    const pieces: string[] = [];
    let start = 0;
    for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, start)) {
      pieces.push(text.slice(start, at + separator.length));
      start = at + separator.length;
    }
    if (start < text.length) pieces.push(text.slice(start));
    return pieces.filter((p) => p !== '');
  }
}

/** Paragraph, then line, then sentence, then word; characters only for a "word" longer than a chunk. */
const SEPARATORS = ['\n\n', '\n', '. ', '? ', '! ', '; ', ' ', ''];

export const normaliseForHash = (content: string) =>
  content.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Cuts each page into chunks of about `chunkTokens` tokens on the most natural boundary that fits. Pages are
 * split separately, so a chunk never spans two PDF pages and every citation names one page. Consecutive
 * chunks overlap by up to `overlapTokens` of whole pieces (sentences, lines) at the level the text was cut:
 * where a cut falls between paragraphs, the next chunk simply starts with the next paragraph. A chunk
 * identical to an earlier one (boilerplate repeated on every page) is dropped and counted.
 */
export async function chunkDocument(pages: ExtractedPage[], options: ChunkOptions): Promise<ChunkedDocument> {
  const chunkTokens = Math.max(10, Math.floor(options.chunkTokens ?? 500));
  // An overlap as long as the chunk would never advance; half a chunk at most.
  const overlapTokens = Math.min(options.overlapTokens ?? 60, Math.floor(chunkTokens / 2));
  const enc = await tokenizer();
  // The splitter measures the same pieces many times while merging; a per-call cache keeps it linear.
  const lengths = new Map<string, number>();
  const length = (text: string) => {
    let n = lengths.get(text);
    if (n === undefined) {
      n = enc.encode(text, [], []).length;
      if (lengths.size > 50_000) lengths.clear();
      lengths.set(text, n);
    }
    return n;
  };
  const splitter = new BoundarySplitter({
    chunkSize: chunkTokens,
    chunkOverlap: overlapTokens,
    separators: SEPARATORS,
    keepSeparator: true,
    lengthFunction: length,
  });

  const chunks: Chunk[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const page of pages) {
    if (!hasWords(page.text)) continue;
    const headings = page.headings ?? [];
    let searchFrom = 0;
    for (const content of await splitter.splitText(page.text)) {
      const at = page.text.indexOf(content, searchFrom);
      if (at >= 0) searchFrom = at + 1;
      const normalised = normaliseForHash(content);
      if (!hasWords(normalised)) continue;
      const hash = sha256(normalised);
      if (seen.has(hash)) {
        duplicates++;
        continue;
      }
      seen.add(hash);
      const heading = at >= 0 ? headings.filter((h) => h.offset <= at).at(-1)?.text : undefined;
      chunks.push({
        index: chunks.length,
        content,
        tokenCount: length(content),
        contentSha256: hash,
        metadata: { source: options.title, page: page.page, ...(heading ? { heading } : {}) },
      });
    }
  }
  return { chunks, duplicates };
}
