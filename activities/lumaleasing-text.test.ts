/**
 * Format detection, text extraction and chunking on real files: PDFs made with pdf-lib (several pages, a fact
 * on page 2 only, larger-type headings), HTML, Markdown and plain text, plus the files that must be refused
 * with a reason staff can act on (damaged, encrypted, scanned, empty).
 */
import { PDFDocument, PDFHexString, StandardFonts } from 'pdf-lib';
import { describe, expect, test } from 'vitest';
import {
  chunkDocument,
  countTokens,
  detectDocumentType,
  DocumentUnreadableError,
  extractDocumentText,
  normaliseForHash,
  type ExtractedPage,
} from './lumaleasing-text';

const utf8 = (text: string) => new TextEncoder().encode(text);

interface PdfPage {
  /** Paragraphs; a string starting with "# " is set as a heading in larger bold type. */
  blocks: string[];
}

/** A letter-size PDF; paragraphs are wrapped at ~90 characters with a blank line between them. */
async function makePdf(pages: PdfPage[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  for (const { blocks } of pages) {
    const page = doc.addPage([612, 792]);
    let y = 740;
    for (const block of blocks) {
      if (block.startsWith('# ')) {
        page.drawText(block.slice(2), { x: 50, y, size: 18, font: bold });
        y -= 30;
        continue;
      }
      const words = block.split(' ');
      let line = '';
      for (const word of words) {
        if ((line + ' ' + word).length > 90) {
          page.drawText(line, { x: 50, y, size: 11, font });
          y -= 14;
          line = word;
        } else {
          line = line ? `${line} ${word}` : word;
        }
      }
      if (line) page.drawText(line, { x: 50, y, size: 11, font });
      y -= 28;
    }
  }
  return doc.save();
}

const PET_FACT = 'The monthly pet rent is $45 per pet, with a one-time pet fee of $300.';

async function policyPdf(): Promise<Uint8Array> {
  return makePdf([
    {
      blocks: [
        '# Welcome to The Reserve',
        'Our leasing office is open Monday through Saturday from 9 am to 6 pm. Tours are available every day.',
        'Residents enjoy a heated pool, a fitness center and package lockers in the lobby.',
      ],
    },
    {
      blocks: [
        '# Pet Policy',
        `Dogs and cats are welcome at The Reserve. ${PET_FACT} Up to two pets are allowed per apartment.`,
        'Aggressive breeds are not permitted. Pets must be leashed in all common areas.',
      ],
    },
    { blocks: ['# Parking', 'Each apartment includes one assigned covered space. Garage spaces are $75 per month.'] },
  ]);
}

describe('detectDocumentType', () => {
  test('recognises PDFs by content, whatever the name', async () => {
    const pdf = await policyPdf();
    expect(detectDocumentType('policy.pdf', pdf)).toBe('application/pdf');
    expect(detectDocumentType('policy', pdf)).toBe('application/pdf');
    expect(detectDocumentType('policy.txt', pdf)).toBe('application/pdf');
    // Named .pdf but not one: refused rather than failing later.
    expect(detectDocumentType('policy.pdf', utf8('just some text'))).toBeNull();
  });

  test('text formats by extension, HTML also by its opening', () => {
    expect(detectDocumentType('faq.md', utf8('# FAQ'))).toBe('text/markdown');
    expect(detectDocumentType('FAQ.MARKDOWN', utf8('# FAQ'))).toBe('text/markdown');
    expect(detectDocumentType('notes.txt', utf8('Office hours 9-5'))).toBe('text/plain');
    expect(detectDocumentType('page.html', utf8('<p>hi</p>'))).toBe('text/html');
    expect(detectDocumentType('page.htm', utf8('<p>hi</p>'))).toBe('text/html');
    expect(detectDocumentType('export', utf8('  <!DOCTYPE html><html><body>x</body></html>'))).toBe('text/html');
    expect(detectDocumentType('page.txt', utf8('<!-- saved --><html lang="en"><body>x</body></html>'))).toBe(
      'text/html',
    );
    expect(detectDocumentType('notes.txt', new Uint8Array([0xff, 0xfe, 0x48, 0x00, 0x69, 0x00]))).toBe('text/plain');
  });

  test('refuses images, Office files, other binaries, unknown extensions and empty files', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(detectDocumentType('photo.png', png)).toBeNull();
    expect(detectDocumentType('photo.txt', png)).toBeNull();
    const docx = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00]);
    expect(detectDocumentType('lease.docx', docx)).toBeNull();
    expect(detectDocumentType('lease.txt', docx)).toBeNull();
    expect(detectDocumentType('data.txt', new Uint8Array([0x41, 0x00, 0x42, 0x00, 0x01, 0x02]))).toBeNull();
    expect(detectDocumentType('notes.csv', utf8('a,b,c'))).toBeNull();
    expect(detectDocumentType('notes.txt', new Uint8Array())).toBeNull();
  });
});

describe('extractDocumentText', () => {
  test('PDF: one entry per page with its number, paragraphs kept apart, larger type as headings', async () => {
    const { pages } = await extractDocumentText(await policyPdf(), 'application/pdf');
    expect(pages.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(pages[1]!.text).toContain(PET_FACT);
    expect(pages[0]!.text).not.toContain('$300');
    expect(pages[2]!.text).not.toContain('$300');
    // Wrapped lines of one paragraph stay one paragraph; paragraphs are separated by a blank line.
    expect(pages[1]!.text.split('\n\n')).toEqual([
      'Pet Policy',
      expect.stringMatching(/^Dogs and cats are welcome[\s\S]*per apartment\.$/),
      'Aggressive breeds are not permitted. Pets must be leashed in all common areas.',
    ]);
    expect(pages.map((p) => p.headings?.map((h) => h.text))).toEqual([
      ['Welcome to The Reserve'],
      ['Pet Policy'],
      ['Parking'],
    ]);
    expect(pages[1]!.headings![0]!.offset).toBe(0);
  });

  test('HTML: headings kept as Markdown headings, tables as rows, scripts, styles and navigation dropped', async () => {
    const html = `<!doctype html><html><head><title>Fees</title><style>p { color: red }</style></head><body>
      <nav><a href="/">Home</a> | <a href="/floorplans">Floor plans</a></nav>
      <h1>Fees at The Reserve</h1>
      <p>The application fee is <b>$50</b> per adult. <a href="https://example.com/apply">Apply online</a>.</p>
      <h2>Parking</h2>
      <table><tr><th>Item</th><th>Fee</th></tr><tr><td>Garage</td><td>$75 per month</td></tr></table>
      <script>window.tracking = true;</script>
    </body></html>`;
    const { pages } = await extractDocumentText(utf8(html), 'text/html');
    expect(pages).toHaveLength(1);
    const [page] = pages;
    expect(page!.page).toBeNull();
    expect(page!.text).toContain('# Fees at The Reserve');
    expect(page!.text).toContain('## Parking');
    expect(page!.text).toContain('The application fee is $50 per adult. Apply online.');
    expect(page!.text).toMatch(/Garage\s+\$75 per month/);
    expect(page!.text).not.toMatch(/tracking|color: red|Floor plans|https:/);
    expect(page!.headings!.map((h) => h.text)).toEqual(['Fees at The Reserve', 'Parking']);
  });

  test('Markdown: ATX and setext headings, not inside code fences; plain text has none', async () => {
    const md = [
      '# Community Guide',
      '',
      'Welcome home.',
      '',
      'Amenities',
      '---------',
      '',
      'Pool hours are 8 am to 10 pm.',
      '',
      '```',
      '# not a heading',
      '```',
      '',
      '## Quiet hours ##',
      '',
      'Quiet hours are 10 pm to 7 am.',
    ].join('\r\n');
    const { pages } = await extractDocumentText(utf8(md), 'text/markdown');
    expect(pages[0]!.page).toBeNull();
    expect(pages[0]!.text).not.toContain('\r');
    expect(pages[0]!.headings!.map((h) => h.text)).toEqual(['Community Guide', 'Amenities', 'Quiet hours']);
    for (const h of pages[0]!.headings!) expect(pages[0]!.text.slice(h.offset)).toMatch(/^(#+ )?\w/);

    const txt = await extractDocumentText(utf8('\ufeff# Not markdown here\n\nOffice: 555-0100'), 'text/plain');
    expect(txt.pages[0]!.headings).toEqual([]);
    expect(txt.pages[0]!.text).toBe('# Not markdown here\n\nOffice: 555-0100');
  });

  test('plain text that is not UTF-8 is read as Windows-1252', async () => {
    const latin = new Uint8Array([...utf8('Caf'), 0xe9, ...utf8(' hours: 9'), 0x96, ...utf8('5')]);
    const { pages } = await extractDocumentText(latin, 'text/plain');
    expect(pages[0]!.text).toBe('Café hours: 9–5');
  });

  const reasonOf = async (bytes: Uint8Array, type: Parameters<typeof extractDocumentText>[1]) => {
    const err = await extractDocumentText(bytes, type).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DocumentUnreadableError);
    return (err as DocumentUnreadableError).reason;
  };

  test('damaged, encrypted, scanned (no text layer) and empty files are refused with a reason', async () => {
    expect(await reasonOf(utf8('%PDF-1.7\n1 0 obj garbage'), 'application/pdf')).toMatch(/damaged or not a valid PDF/);
    // Truncated halfway: the cross-reference table and most objects are gone.
    const pdf = await policyPdf();
    expect(await reasonOf(pdf.subarray(0, 300), 'application/pdf')).toMatch(/damaged|no text layer/);

    // A real encryption dictionary whose user password is not empty: pdf.js asks for a password.
    const doc = await PDFDocument.load(pdf);
    const ctx = doc.context;
    ctx.trailerInfo.Encrypt = ctx.register(
      ctx.obj({
        Filter: 'Standard',
        V: 1,
        R: 2,
        Length: 40,
        P: -44,
        O: PDFHexString.of('00'.repeat(32)),
        U: PDFHexString.of('11'.repeat(32)),
      }),
    );
    ctx.trailerInfo.ID = ctx.obj([PDFHexString.of('ab'.repeat(16)), PDFHexString.of('ab'.repeat(16))]);
    expect(await reasonOf(await doc.save({ useObjectStreams: false }), 'application/pdf')).toMatch(
      /password-protected/,
    );

    const blank = await PDFDocument.create();
    blank.addPage();
    blank.addPage();
    expect(await reasonOf(await blank.save(), 'application/pdf')).toMatch(/no text layer/);

    expect(await reasonOf(new Uint8Array(), 'application/pdf')).toMatch(/empty/);
    expect(await reasonOf(new Uint8Array(), 'text/plain')).toMatch(/empty/);
    expect(await reasonOf(utf8(' \n\n\t \n'), 'text/plain')).toMatch(/no text/);
    expect(await reasonOf(utf8('<html><body><script>x()</script></body></html>'), 'text/html')).toMatch(/no text/);
  });
});

/** Deterministic prose: numbered sentences of 8-21 words from a small leasing vocabulary. */
function prose(sentences: number, seed = 7, prefix = 'Note'): string[] {
  const words = ['resident', 'lease', 'parking', 'garage', 'amenity', 'pool', 'fitness', 'package', 'maintenance'];
  words.push('request', 'portal', 'rent', 'deposit', 'application', 'office', 'weekend', 'community', 'guest');
  let state = seed;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: sentences }, (_, i) => {
    const n = 8 + Math.floor(next() * 14);
    return `${prefix} ${i + 1} ${Array.from({ length: n }, () => words[Math.floor(next() * words.length)]).join(' ')}.`;
  });
}

/** The longest suffix of `a` that is a prefix of `b`. */
function overlapOf(a: string, b: string): string {
  for (let n = Math.min(a.length, b.length); n > 0; n--) if (a.endsWith(b.slice(0, n))) return b.slice(0, n);
  return '';
}

describe('chunkDocument', () => {
  test('chunks of at most 500 tokens, cut between sentences, overlapping by up to 60 tokens of whole sentences', async () => {
    const sentences = prose(240);
    const { chunks, duplicates } = await chunkDocument([{ page: null, text: sentences.join(' ') }], {
      title: 'Community Guide',
    });
    expect(duplicates).toBe(0);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.map((c) => c.index)).toEqual([...chunks.keys()]);
    for (const [i, chunk] of chunks.entries()) {
      expect(chunk.tokenCount).toBe(await countTokens(chunk.content));
      expect(chunk.tokenCount).toBeLessThanOrEqual(500);
      if (i < chunks.length - 1) expect(chunk.tokenCount).toBeGreaterThan(400);
      // Natural boundaries: every chunk starts at a sentence and ends with one.
      expect(chunk.content).toMatch(/^Note \d+ /);
      expect(chunk.content).toMatch(/\.$/);
      expect(chunk.metadata).toEqual({ source: 'Community Guide', page: null });
      if (i > 0) {
        const overlap = overlapOf(chunks[i - 1]!.content, chunk.content).trim();
        expect(overlap).toMatch(/^Note \d+ .*\.$/);
        const tokens = await countTokens(overlap);
        expect(tokens).toBeGreaterThan(0);
        expect(tokens).toBeLessThanOrEqual(60);
      }
    }
    // Nothing lost: every sentence is in some chunk.
    for (const s of sentences) expect(chunks.some((c) => c.content.includes(s))).toBe(true);
  });

  test('paragraphs are kept whole when they fit; a long paragraph is cut between sentences', async () => {
    const paragraphs = [0, 1, 2, 3, 4, 5].map((p) => prose(6, 100 + p, `P${p}`).join(' '));
    const long = prose(60, 999, 'Long').join(' ');
    const text = [...paragraphs.slice(0, 3), long, ...paragraphs.slice(3)].join('\n\n');
    const { chunks } = await chunkDocument([{ page: 4, text }], {
      title: 'Guide',
      chunkTokens: 200,
      overlapTokens: 30,
    });
    for (const p of paragraphs) {
      expect(chunks.filter((c) => c.content.includes(p)).length).toBeGreaterThanOrEqual(1);
    }
    for (const c of chunks) {
      expect(c.tokenCount).toBeLessThanOrEqual(200);
      expect(c.metadata.page).toBe(4);
      expect(c.content).toMatch(/^(P\d|Long) \d+ /);
      expect(c.content).toMatch(/\.$/);
    }
    expect(chunks.filter((c) => c.content.includes('Long ')).length).toBeGreaterThan(2);
  });

  test('PDF chunks never span pages and cite the page and heading they came from', async () => {
    const filler = (seed: number) => prose(30, seed).join(' ');
    const pdf = await makePdf([
      { blocks: ['# House Rules', filler(1), filler(2)] },
      { blocks: ['# Pet Policy', filler(3), PET_FACT, filler(4)] },
      { blocks: ['# Parking', filler(5)] },
    ]);
    const { pages } = await extractDocumentText(pdf, 'application/pdf');
    const { chunks } = await chunkDocument(pages, { title: 'Resident Handbook' });
    expect(new Set(chunks.map((c) => c.metadata.page))).toEqual(new Set([1, 2, 3]));
    for (const c of chunks) expect(pages[c.metadata.page! - 1]!.text).toContain(c.content);
    const withFact = chunks.filter((c) => c.content.includes(PET_FACT));
    expect(withFact.length).toBeGreaterThanOrEqual(1);
    for (const c of withFact)
      expect(c.metadata).toEqual({ source: 'Resident Handbook', page: 2, heading: 'Pet Policy' });
    expect(chunks.find((c) => c.metadata.page === 3)!.metadata.heading).toBe('Parking');
  });

  test('identical chunks (after folding case and whitespace) are stored once and counted', async () => {
    const boilerplate = 'The Reserve at Sandpoint. Equal Housing Opportunity. Call 555-0100.';
    const pages: ExtractedPage[] = [
      { page: 1, text: 'Pool hours are 8 am to 10 pm.' },
      { page: 2, text: boilerplate },
      { page: 3, text: 'Gym hours are 5 am to 11 pm.' },
      { page: 4, text: boilerplate.toUpperCase().replace(/ /g, '  ') },
      { page: 5, text: boilerplate },
      { page: 6, text: '   ' },
    ];
    const { chunks, duplicates } = await chunkDocument(pages, { title: 'Flyer' });
    expect(duplicates).toBe(2);
    expect(chunks.map((c) => [c.index, c.metadata.page])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(new Set(chunks.map((c) => c.contentSha256)).size).toBe(3);
    expect(normaliseForHash(' A\n\nb  C ')).toBe('a b c');
  });

  test('Markdown chunks carry the nearest heading above them', async () => {
    const md = [
      '# Guide',
      prose(3, 1).join(' '),
      '## Pets',
      prose(40, 2).join(' '),
      '## Parking',
      prose(40, 3).join(' '),
    ];
    const { pages } = await extractDocumentText(utf8(md.join('\n\n')), 'text/markdown');
    const { chunks } = await chunkDocument(pages, { title: 'Guide', chunkTokens: 300, overlapTokens: 40 });
    const headings = chunks.map((c) => c.metadata.heading);
    expect(headings[0]).toBe('Guide');
    expect(headings).toContain('Pets');
    expect(headings.at(-1)).toBe('Parking');
    // In document order: once a section starts, earlier headings never come back.
    const order = ['Guide', 'Pets', 'Parking'];
    for (let i = 1; i < headings.length; i++) {
      expect(order.indexOf(headings[i]!)).toBeGreaterThanOrEqual(order.indexOf(headings[i - 1]!));
    }
  });

  test('a "word" longer than a chunk is cut; extraction breaks up long runs without spaces', async () => {
    // Not repetitive, so its pieces are not dropped as duplicates.
    let state = 3;
    const letters = (n: number) =>
      Array.from({ length: n }, () => 'abcdefghij'[(state = (state * 48271) % 2147483647) % 10]).join('');
    const word = letters(400);
    const { chunks } = await chunkDocument([{ page: null, text: `Intro. ${word}` }], { title: 't', chunkTokens: 40 });
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => c.tokenCount <= 40)).toBe(true);
    for (const c of chunks.slice(1)) expect(word).toContain(c.content);

    // A pasted 20,000-character blob: cut into 100-character pieces at extraction, so chunking stays fast.
    const blob = letters(20_000);
    const { pages } = await extractDocumentText(utf8(`Office notes.\n\n${blob}\n\nEnd.`), 'text/plain');
    expect(pages[0]!.text.split(/\s+/).every((w) => w.length <= 100)).toBe(true);
    expect(pages[0]!.text.replace(/\s+/g, '')).toBe(`Officenotes.${blob}End.`);
    const started = performance.now();
    const chunked = await chunkDocument(pages, { title: 't' });
    expect(chunked.chunks.length).toBeGreaterThan(5);
    // Generous: the quadratic case this prevents takes minutes.
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  test('token counts are cl100k_base, and special-token text counts as plain text', async () => {
    expect(await countTokens('hello world')).toBe(2);
    expect(await countTokens('<|endoftext|>')).toBeGreaterThan(1);
  });
});
