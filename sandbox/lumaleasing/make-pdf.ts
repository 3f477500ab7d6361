/**
 * Turns the sample documents' PDF sources (`*.pdf.txt`) into real multi-page PDFs with pdf-lib, so the
 * repository holds only text and the demo, the evaluation and the benchmarks still ingest genuine PDFs (text
 * layer, several pages, a footer on each) through the same extractor staff uploads go through.
 *
 * Source format, one directive per line:
 *   `Title: …`          first line; the PDF's title (metadata and the running footer)
 *   `# Heading`         bold, large;  `## Heading` bold, medium
 *   `- item`            a bullet with a hanging indent
 *   `---page---`        starts a new page (text that does not fit flows onto further pages by itself)
 *   blank line          ends a paragraph; consecutive non-blank lines are joined into one paragraph
 *
 * The output is byte-for-byte deterministic (fixed dates, no generated IDs): the demo skips a document whose
 * stored sha256 already matches, so regenerating on every start must not make a "new version".
 *
 * CLI: `tsx sandbox/lumaleasing/make-pdf.ts [outDir]` writes every sample PDF to outDir (default
 * `.data/lumaleasing-samples/<property-slug>/`), e.g. to upload one by hand in the admin UI.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

export const PDF_SOURCE_SUFFIX = '.pdf.txt';
export const PAGE_BREAK = '---page---';

const PAGE_WIDTH = 612; // US Letter, points
const PAGE_HEIGHT = 792;
const MARGIN = 64;
const FOOTER_Y = 36;
/** A fixed timestamp: PDF dates are part of the bytes, and the bytes must not change between runs. */
const FIXED_DATE = new Date(Date.UTC(2025, 0, 6, 17, 0, 0));

type Block = { kind: 'h1' | 'h2' | 'p'; text: string } | { kind: 'bullet'; text: string } | { kind: 'page' };

/** The standard fonts speak WinAnsi only: typographic characters an editor slips in become ASCII. */
function toWinAnsi(text: string): string {
  return text
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201C\u201D]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/\u00A0/g, ' ')
    .replace(/[^\n\x20-\x7E\xA0-\xFF]/g, '');
}

export function parsePdfSource(source: string): { title: string; blocks: Block[] } {
  const lines = source.replace(/\r\n/g, '\n').split('\n');
  let title = 'Document';
  if (lines[0]?.startsWith('Title:')) title = lines.shift()!.slice('Title:'.length).trim();
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: 'p', text: paragraph.join(' ') });
    paragraph = [];
  };
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) {
      flush();
    } else if (line === PAGE_BREAK) {
      flush();
      blocks.push({ kind: 'page' });
    } else if (line.startsWith('## ')) {
      flush();
      blocks.push({ kind: 'h2', text: line.slice(3) });
    } else if (line.startsWith('# ')) {
      flush();
      blocks.push({ kind: 'h1', text: line.slice(2) });
    } else if (line.startsWith('- ')) {
      flush();
      blocks.push({ kind: 'bullet', text: line.slice(2) });
    } else if (blocks.at(-1)?.kind === 'bullet' && paragraph.length === 0 && /^\s{2,}/.test(raw)) {
      // An indented continuation line belongs to the bullet above it.
      const last = blocks.at(-1) as { kind: 'bullet'; text: string };
      last.text += ` ${line}`;
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return { title, blocks };
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = current ? `${current} ${word}` : word;
    if (current && font.widthOfTextAtSize(candidate, size) > width) {
      lines.push(current);
      current = word;
    } else {
      current = candidate;
    }
  }
  if (current) lines.push(current);
  return lines;
}

/** Renders a parsed source to PDF bytes. */
export async function makePdf(source: string): Promise<Uint8Array> {
  const { title, blocks } = parsePdfSource(toWinAnsi(source));
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(title);
  doc.setAuthor('P11 Console sample documents');
  doc.setProducer('pdf-lib (sandbox/lumaleasing/make-pdf.ts)');
  doc.setCreator('P11 Console');
  doc.setCreationDate(FIXED_DATE);
  doc.setModificationDate(FIXED_DATE);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);

  const pages: PDFPage[] = [];
  let page!: PDFPage;
  let y = 0;
  const newPage = () => {
    page = doc.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
    pages.push(page);
    y = PAGE_HEIGHT - MARGIN;
  };
  newPage();
  const textWidth = PAGE_WIDTH - 2 * MARGIN;

  const draw = (lines: string[], font: PDFFont, size: number, indent = 0, bulletFirst = false) => {
    const leading = size * 1.35;
    lines.forEach((text, i) => {
      if (y - leading < FOOTER_Y + 24) newPage();
      y -= leading;
      if (bulletFirst && i === 0) page.drawText('-', { x: MARGIN + indent - 10, y, size, font });
      page.drawText(text, { x: MARGIN + indent, y, size, font, color: rgb(0.1, 0.1, 0.12) });
    });
  };

  for (const block of blocks) {
    switch (block.kind) {
      case 'page':
        // A break right at the top of a fresh page would leave an empty page.
        if (y < PAGE_HEIGHT - MARGIN) newPage();
        break;
      case 'h1':
        if (y < PAGE_HEIGHT - MARGIN) y -= 10;
        draw(wrap(block.text, bold, 17, textWidth), bold, 17);
        y -= 6;
        break;
      case 'h2':
        y -= 8;
        draw(wrap(block.text, bold, 12.5, textWidth), bold, 12.5);
        y -= 2;
        break;
      case 'bullet':
        draw(wrap(block.text, regular, 10.5, textWidth - 16), regular, 10.5, 16, true);
        y -= 2;
        break;
      case 'p':
        draw(wrap(block.text, regular, 10.5, textWidth), regular, 10.5);
        y -= 7;
        break;
    }
  }

  pages.forEach((p, i) => {
    const footer = `${title}  |  Page ${i + 1} of ${pages.length}`;
    p.drawText(footer, { x: MARGIN, y: FOOTER_Y, size: 8, font: regular, color: rgb(0.45, 0.45, 0.5) });
  });
  return doc.save({ useObjectStreams: false });
}

export function pdfFilenameFor(sourceFilename: string): string {
  return `${basename(sourceFilename, PDF_SOURCE_SUFFIX)}.pdf`;
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const outRoot = resolve(process.argv[2] ?? join(process.cwd(), '.data', 'lumaleasing-samples'));
  const documentsDir = join(here, 'documents');
  for (const property of readdirSync(documentsDir)) {
    for (const file of readdirSync(join(documentsDir, property)).filter((f) => f.endsWith(PDF_SOURCE_SUFFIX))) {
      const bytes = await makePdf(readFileSync(join(documentsDir, property, file), 'utf8'));
      mkdirSync(join(outRoot, property), { recursive: true });
      const out = join(outRoot, property, pdfFilenameFor(file));
      writeFileSync(out, bytes);
      console.log(`${out}  (${bytes.byteLength.toLocaleString()} bytes)`);
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
