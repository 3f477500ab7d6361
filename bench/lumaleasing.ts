/**
 * `npm run bench:lumaleasing` (also run by `npm run bench`): LumaLeasing's ingestion and retrieval figures on
 * embedded PGlite (PostgreSQL compiled to WASM, with pgvector).
 *
 *   1. Ingestion: chunks per second through the pipeline's own functions: detect → extract → chunk
 *      (activities/lumaleasing-text.ts) → embed (the offline lexical embedder, so the figure is about this
 *      process, not a network) → insert into `documents` with the HNSW index in place, as in production.
 *      Two corpora: the sample documents of both demo properties (Markdown, text, HTML, PDF) many times over,
 *      and one long generated PDF.
 *   2. Retrieval at BENCH_CHUNKS sizes (default 10000,100000): synthetic chunk texts (sentences of the sample
 *      documents recombined, numbers varied) embedded with the offline lexical embedder, bulk-loaded into one
 *      property without the HNSW index, then the index is built (PGlite inserts far slower with it present).
 *      Prints load and index-build times, p50/p95 of `match_documents` (through withTenant, as the chat calls
 *      it) over 100 queries (the evaluation's questions plus sentence fragments), the same with an exact scan
 *      (index scans off), and recall@5 of the HNSW search against that exact scan.
 *
 * BENCH_INGEST_ROUNDS (default 20) repeats the sample set; BENCH_LARGE_PDF_PAGES (default 200) sizes the long PDF.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { chunkDocument, detectDocumentType, extractDocumentText } from '../activities/lumaleasing-text';
import { createDatabase, type Database, type Transaction } from '../db/client';
import { createOrganization } from '../db/organizations';
import { documents, lumaleasingDocuments } from '../db/schema/lumaleasing';
import { withTenant } from '../db/tenancy';
import { insertReadyDocument } from './insert-ready-document';
import { createLexicalEmbedder } from '../integrations/embeddings';
import { makePdf } from '../sandbox/lumaleasing/make-pdf';
import { SAMPLE_PROPERTIES, loadSampleDocuments, type SampleDocument } from '../sandbox/lumaleasing/sample-documents';

const SIZES = (process.env.BENCH_CHUNKS ?? '10000,100000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isFinite(n) && n > 0);
const INGEST_ROUNDS = Number(process.env.BENCH_INGEST_ROUNDS ?? 20);
const LARGE_PDF_PAGES = Number(process.env.BENCH_LARGE_PDF_PAGES ?? 200);
const QUERIES = 100;
/** hnsw.ef_search values tried on the bare query (match_documents sets 200). */
const EF_SEARCH = [40, 100, 200, 400];
const K = 5;
/** Chunks per synthetic document (a long property handbook); documents join chunks in match_documents. */
const CHUNKS_PER_DOCUMENT = 50;
/** Rows per INSERT statement in the bulk load (each row carries a 1536-float vector as text). */
const LOAD_BATCH = 250;

const HERE = dirname(fileURLToPath(import.meta.url));
const embedder = createLexicalEmbedder();

function line(name: string, value: string) {
  console.log(`${name.padEnd(58)} ${value}`);
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** mulberry32: a seeded generator, so every run loads the same corpus and asks the same questions. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ── Synthetic text from the sample documents ────────────────────────────────────────────────────────────

async function samplePool(): Promise<{ sentences: string[]; docs: SampleDocument[] }> {
  const docs = [
    ...(await loadSampleDocuments(SAMPLE_PROPERTIES.reserve.slug)),
    ...(await loadSampleDocuments(SAMPLE_PROPERTIES.harbor.slug)),
  ];
  const sentences: string[] = [];
  for (const doc of docs) {
    const { pages } = await extractDocumentText(doc.bytes, doc.contentType);
    for (const page of pages) {
      for (const s of page.text.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+/)) {
        if (s.split(' ').length >= 5) sentences.push(s.trim());
      }
    }
  }
  return { sentences, docs };
}

const PLACES = ['Cedar', 'Harbor', 'Lakeshore', 'Summit', 'Willow', 'Granite', 'Aspen', 'Riverside', 'Maple', 'Birch'];
const KINDS = ['Reserve', 'Lofts', 'Commons', 'Flats', 'Terrace', 'Landing', 'Crossing', 'Point', 'Gardens', 'Heights'];

/** A chunk-sized passage (~6-12 sentences): recombined sentences with their numbers and names varied. */
function syntheticPassage(pool: string[], next: () => number): string {
  const name = `${PLACES[Math.floor(next() * PLACES.length)]} ${KINDS[Math.floor(next() * KINDS.length)]}`;
  const n = 6 + Math.floor(next() * 7);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = pool[Math.floor(next() * pool.length)]!;
    out.push(
      s
        .replace(/\d+/g, () => String(1 + Math.floor(next() * 400)))
        .replace(/The Reserve at Sandpoint|Harbor View Lofts|The Reserve/g, name),
    );
  }
  return out.join(' ');
}

// ── 1. Ingestion ──────────────────────────────────────────────────────────────────────────────────────────

async function benchIngestion(docs: SampleDocument[], pool: string[]) {
  const database = await createDatabase();
  try {
    await database.migrate();
    const db = database.db;
    const org = await createOrganization(db, {
      name: 'Bench Luma Ingest',
      slug: 'bench-luma-ingest',
      properties: [{ name: 'Ingest Property' }],
    });
    const propertyId = org.propertyIds[0]!;

    const stage = { extract: 0, chunk: 0, embed: 0, insert: 0 };
    let counter = 0;
    async function ingest(doc: { filename: string; title: string; bytes: Uint8Array }) {
      let t = performance.now();
      const type = detectDocumentType(doc.filename, doc.bytes);
      if (!type) throw new Error(`${doc.filename}: not a document`);
      const { pages } = await extractDocumentText(doc.bytes, type);
      stage.extract += performance.now() - t;
      t = performance.now();
      const { chunks } = await chunkDocument(pages, { title: doc.title });
      stage.chunk += performance.now() - t;
      t = performance.now();
      const vectors = await embedder.embed(chunks.map((c) => c.content));
      stage.embed += performance.now() - t;
      t = performance.now();
      await insertReadyDocument(db, {
        orgId: org.orgId,
        propertyId,
        filename: `${counter++}-${doc.filename}`,
        title: doc.title,
        contentType: type,
        bytes: doc.bytes,
        chunks,
        vectors,
        createdBy: 'bench',
      });
      stage.insert += performance.now() - t;
      return { chunks: chunks.length, pages: type === 'application/pdf' ? pages.length : 0 };
    }

    const report = (name: string, chunks: number, ms: number) => {
      const total = stage.extract + stage.chunk + stage.embed + stage.insert;
      line(name, `${((chunks / ms) * 1000).toFixed(0)} chunks/s  (${chunks} chunks in ${(ms / 1000).toFixed(2)} s)`);
      line(
        '  time split: extract / chunk / embed / insert',
        (['extract', 'chunk', 'embed', 'insert'] as const)
          .map((k) => `${((100 * stage[k]) / total).toFixed(0)}%`)
          .join(' / '),
      );
      stage.extract = stage.chunk = stage.embed = stage.insert = 0;
    };

    // Warm-up: the tokenizer's ranks and pdf.js load on first use.
    for (const doc of docs) await ingest(doc);
    stage.extract = stage.chunk = stage.embed = stage.insert = 0;

    let chunks = 0;
    let started = performance.now();
    for (let r = 0; r < INGEST_ROUNDS; r++) for (const doc of docs) chunks += (await ingest(doc)).chunks;
    report(
      `ingest: sample documents x${INGEST_ROUNDS} (${docs.length * INGEST_ROUNDS} files)`,
      chunks,
      performance.now() - started,
    );

    const next = rng(7);
    const source = [
      'Title: Bench Community Handbook',
      ...Array.from({ length: LARGE_PDF_PAGES }, (_, p) =>
        [
          p ? '---page---' : '',
          `# Section ${p + 1}`,
          ...Array.from({ length: 4 }, () => `${syntheticPassage(pool, next)}\n`),
        ].join('\n'),
      ),
    ].join('\n');
    const pdf = await makePdf(source);
    started = performance.now();
    const large = await ingest({ filename: 'bench-handbook.pdf', title: 'Bench Community Handbook', bytes: pdf });
    report(`ingest: one ${large.pages}-page PDF (${mib(pdf.byteLength)})`, large.chunks, performance.now() - started);
  } finally {
    await database.close();
  }
}

// ── 2. Retrieval at scale ─────────────────────────────────────────────────────────────────────────────────

type Shape = 'match_documents' | 'index';

/**
 * One retrieval, inside withTenant as the chat runs it. `match_documents` is the function as deployed (the
 * planner chooses its plan); `index` is the bare nearest-neighbour query over the property's chunks, which the
 * HNSW index can serve directly: the index's own speed and recall, whatever plan the function gets.
 * `exact` turns index scans off, leaving a sequential scan and a sort: the exact answer to compare with.
 * Exactness is measured on the bare query only: PL/pgSQL caches match_documents' plan for the session, so
 * turning index scans off does not reliably change the function's plan (a first run of this benchmark
 * compared the function with itself that way and reported a meaningless "exact" p50).
 */
interface Hit {
  id: string;
  distance: number;
}

function retrieve(
  db: Database,
  orgId: string,
  propertyId: string,
  vector: string,
  shape: Shape,
  exact: boolean,
  efSearch = 200,
): Promise<Hit[]> {
  return withTenant(db, orgId, async (tx) => {
    if (shape === 'index') await indexSettings(tx, exact, efSearch);
    const query =
      shape === 'match_documents'
        ? sql`select id, 1 - similarity as distance
              from match_documents(${vector}::vector, ${-1}, ${K}, ${propertyId}::uuid)`
        : sql`select id, embedding <=> ${vector}::vector as distance from documents
              where property_id = ${propertyId}::uuid and embedding is not null
              order by embedding <=> ${vector}::vector limit ${K}`;
    const result = await tx.execute(query);
    return (result as unknown as { rows: { id: string; distance: number | string }[] }).rows.map((r) => ({
      id: r.id,
      distance: Number(r.distance),
    }));
  });
}

/**
 * The bare query's settings: match_documents' own HNSW settings (ef_search 200 unless given), and either no
 * way around the HNSW index (sorting off, so only an index that returns rows in distance order qualifies; the
 * planner would otherwise sort a sequential scan at small sizes) or no index scans at all (the exact answer).
 */
async function indexSettings(tx: Transaction, exact: boolean, efSearch = 200) {
  await tx.execute(sql`set local hnsw.iterative_scan = 'relaxed_order'`);
  await tx.execute(sql.raw(`set local hnsw.ef_search = ${Math.floor(efSearch)}`));
  if (exact) await tx.execute(sql`set local enable_indexscan = off`);
  else await tx.execute(sql`set local enable_sort = off`);
}

async function benchRetrieval(size: number, pool: string[], queries: string[]) {
  console.log(`\nretrieval at ${size.toLocaleString()} chunks`);
  const dir = mkdtempSync(join(tmpdir(), 'p11-bench-luma-'));
  const database = await createDatabase({ pgliteDataDir: join(dir, 'pglite') });
  try {
    await database.migrate();
    const db = database.db;
    const org = await createOrganization(db, {
      name: `Bench Luma ${size}`,
      slug: `bench-luma-${size}`,
      properties: [{ name: 'Big Property' }],
    });
    const propertyId = org.propertyIds[0]!;
    await db.execute(sql`drop index documents_embedding_hnsw`);

    const next = rng(size);
    const documentCount = Math.ceil(size / CHUNKS_PER_DOCUMENT);
    const documentIds: string[] = [];
    await withTenant(db, org.orgId, async (tx) => {
      for (let i = 0; i < documentCount; i += 500) {
        const rows = await tx
          .insert(lumaleasingDocuments)
          .values(
            Array.from({ length: Math.min(500, documentCount - i) }, (_, j) => ({
              orgId: org.orgId,
              propertyId,
              title: `Handbook ${i + j + 1}`,
              filename: `handbook-${i + j + 1}.pdf`,
              latestVersion: 1,
              currentVersion: 1,
              createdBy: 'bench',
            })),
          )
          .returning({ id: lumaleasingDocuments.id });
        documentIds.push(...rows.map((r) => r.id));
      }
    });

    let embedMs = 0;
    let insertMs = 0;
    for (let start = 0; start < size; start += LOAD_BATCH) {
      const n = Math.min(LOAD_BATCH, size - start);
      let t = performance.now();
      const texts = Array.from({ length: n }, () => syntheticPassage(pool, next));
      const vectors = await embedder.embed(texts);
      embedMs += performance.now() - t;
      t = performance.now();
      await withTenant(db, org.orgId, (tx) =>
        tx.insert(documents).values(
          texts.map((content, j) => {
            const index = start + j;
            return {
              orgId: org.orgId,
              propertyId,
              documentId: documentIds[Math.floor(index / CHUNKS_PER_DOCUMENT)]!,
              version: 1,
              chunkIndex: index % CHUNKS_PER_DOCUMENT,
              content,
              contentSha256: createHash('sha256').update(content).digest('hex'),
              tokenCount: Math.round(content.length / 4),
              metadata: { source: 'Handbook', page: null },
              embedding: vectors[j]!,
            };
          }),
        ),
      );
      insertMs += performance.now() - t;
    }
    line(
      '  synthetic texts + offline embeddings',
      `${(embedMs / 1000).toFixed(1)} s  (${((size / embedMs) * 1000).toFixed(0)} chunks/s)`,
    );
    line(
      '  bulk load without the HNSW index',
      `${(insertMs / 1000).toFixed(1)} s  (${((size / insertMs) * 1000).toFixed(0)} rows/s)`,
    );

    // The graph must fit in maintenance_work_mem to be built in memory (otherwise pgvector builds on disk,
    // far slower); ~8 KiB per 1536-dimension element with its neighbour lists.
    const workMem = Math.max(64, Math.ceil((size * 8) / 1024) + 64);
    await db.execute(sql.raw(`set maintenance_work_mem = '${workMem}MB'`));
    let t = performance.now();
    await db.execute(sql`create index documents_embedding_hnsw on documents using hnsw (embedding vector_cosine_ops)`);
    const buildMs = performance.now() - t;
    await db.execute(sql`reset maintenance_work_mem`);
    await db.execute(sql`analyze documents`);
    await db.execute(sql`analyze lumaleasing_documents`);
    line(
      `  HNSW index build (m=16, ef_construction=64, mwm ${workMem} MB)`,
      `${(buildMs / 1000).toFixed(1)} s  (${((size / buildMs) * 1000).toFixed(0)} vectors/s)`,
    );
    const sizes = (await db.execute(
      sql`select pg_total_relation_size('documents') as total, pg_relation_size('documents_embedding_hnsw') as hnsw`,
    )) as unknown as { rows: { total: string | number; hnsw: string | number }[] };
    line(
      '  documents table incl. indexes / HNSW index alone',
      `${mib(Number(sizes.rows[0]!.total))} / ${mib(Number(sizes.rows[0]!.hnsw))}`,
    );

    const queryVectors = (await embedder.embed(queries)).map((v) => JSON.stringify(v));
    // The plan match_documents' inner query gets (same settings as the function): does it use the index?
    const plan = await withTenant(db, org.orgId, async (tx) => {
      await tx.execute(sql`set local hnsw.iterative_scan = 'relaxed_order'`);
      await tx.execute(sql`set local hnsw.ef_search = 200`);
      const result = (await tx.execute(sql`
        explain select d.id from documents d
        join lumaleasing_documents ld on ld.id = d.document_id and ld.current_version = d.version
        where d.property_id = ${propertyId}::uuid and d.org_id = ${org.orgId}::uuid and d.embedding is not null
        order by d.embedding <=> ${queryVectors[0]!}::vector limit ${K * 4}`)) as unknown as {
        rows: { 'QUERY PLAN': string }[];
      };
      return result.rows.map((r) => r['QUERY PLAN'].replace(/'\[[^\]]*\]'/g, "'[…]'"));
    });
    const usesIndex = plan.some((l) => l.includes('documents_embedding_hnsw'));
    line("  match_documents' inner query plan", usesIndex ? 'HNSW index scan' : 'NO HNSW: sequential scan and sort');
    if (!usesIndex) for (const l of plan.slice(0, 3)) console.log(`      ${l.slice(0, 110)}`);
    for (const exact of [false, true]) {
      const bare = await withTenant(db, org.orgId, async (tx) => {
        await indexSettings(tx, exact);
        const result = (await tx.execute(sql`
          explain select id from documents where property_id = ${propertyId}::uuid and embedding is not null
          order by embedding <=> ${queryVectors[0]!}::vector limit ${K}`)) as unknown as {
          rows: { 'QUERY PLAN': string }[];
        };
        return result.rows.some((r) => r['QUERY PLAN'].includes('documents_embedding_hnsw'));
      });
      if (bare === exact) throw new Error(`the ${exact ? 'exact' : 'HNSW'} query did not get the plan it measures`);
    }

    const timed = async (shape: Shape, exact: boolean, efSearch = 200) => {
      for (let i = 0; i < 5; i++) await retrieve(db, org.orgId, propertyId, queryVectors[i]!, shape, exact, efSearch);
      const samples: number[] = [];
      const results: Hit[][] = [];
      for (const v of queryVectors) {
        const t0 = performance.now();
        results.push(await retrieve(db, org.orgId, propertyId, v, shape, exact, efSearch));
        samples.push(performance.now() - t0);
      }
      samples.sort((a, b) => a - b);
      return { results, p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
    };
    /**
     * Two readings of recall@K. By id: the share of the exact top K's chunks found. By distance: the share of
     * results at least as close as the exact K-th, which does not count a different chunk at the same distance
     * (recombined synthetic passages tie often) as a miss.
     */
    const recall = (approximate: Hit[][], truth: Hit[][]) => {
      let byId = 0;
      let byDistance = 0;
      let wanted = 0;
      let perfect = 0;
      approximate.forEach((hits, i) => {
        const expected = truth[i]!;
        const ids = new Set(expected.map((h) => h.id));
        const kth = expected.at(-1)?.distance ?? Infinity;
        const idHits = hits.filter((h) => ids.has(h.id)).length;
        byId += idHits;
        byDistance += Math.min(expected.length, hits.filter((h) => h.distance <= kth + 1e-6).length);
        wanted += expected.length;
        if (idHits === expected.length) perfect++;
      });
      return (
        `${((100 * byId) / wanted).toFixed(1)}% by id, ${((100 * byDistance) / wanted).toFixed(1)}% by distance` +
        `  (${perfect}/${approximate.length} with all ${K} ids)`
      );
    };
    const latency = (r: { p50: number; p95: number }) =>
      `p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms  (n=${queryVectors.length})`;

    const deployed = await timed('match_documents', false);
    line(`  match_documents(k=${K}) as deployed`, latency(deployed));
    const exact = await timed('index', true);
    line(`  nearest-${K} query, exact scan (index scans off)`, latency(exact));
    line(`  recall@${K}: match_documents vs exact scan`, recall(deployed.results, exact.results));
    for (const ef of EF_SEARCH) {
      const index = await timed('index', false, ef);
      line(`  nearest-${K} on the HNSW index, ef_search ${ef}`, latency(index));
      line(`    recall@${K} vs exact scan`, recall(index.results, exact.results));
    }
    line('  process RSS / machine', `${mib(process.memoryUsage().rss)} / ${load()}`);
  } finally {
    await database.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

// Timings are wall-clock on a single-threaded WASM database: other load on the machine shows up in them.
const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`;
console.log(
  `P11 Console LumaLeasing benchmarks (node ${process.version}, PGlite, embedder ${embedder.name}, ${load()})\n`,
);
const { sentences, docs } = await samplePool();
await benchIngestion(docs, sentences);

const evalQuestions = (
  JSON.parse(readFileSync(join(HERE, '..', 'sandbox', 'lumaleasing', 'eval-questions.json'), 'utf8')) as {
    questions: { question: string }[];
  }
).questions.map((q) => q.question);
const nextQuery = rng(42);
const queries = [...evalQuestions];
while (queries.length < QUERIES) {
  const s = sentences[Math.floor(nextQuery() * sentences.length)]!.split(' ');
  const from = Math.floor(nextQuery() * Math.max(1, s.length - 8));
  queries.push(s.slice(from, from + 4 + Math.floor(nextQuery() * 6)).join(' '));
}

for (const size of SIZES) {
  try {
    await benchRetrieval(size, sentences, queries.slice(0, QUERIES));
  } catch (err) {
    console.log(`  FAILED at ${size.toLocaleString()} chunks: ${(err as Error).message}`);
    line('  process RSS at failure', mib(process.memoryUsage().rss));
  }
}
