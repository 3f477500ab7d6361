/**
 * `npm run eval:rag`: LumaLeasing's answer quality on the sandbox's sample documents
 * (sandbox/lumaleasing/documents) and question set (sandbox/lumaleasing/eval-questions.json).
 *
 * A fresh in-memory PGlite gets an organization with the two demo properties and their documents, ingested
 * with the pipeline's own functions (detect → extract → chunk from activities/lumaleasing-text.ts, the
 * configured embedder, rows in `documents`, then `current_version` set as publishing does). Every question
 * is then asked on its property as the chat asks it: embed, `retrieveContext` (match_documents), and
 * `composeAnswer` with the property's persona. Printed:
 *
 *   - retrieval hit@1 / hit@5: the expected document is the top chunk's / among the top 5 (threshold 0, so
 *     the figure is about ranking, not about the answering threshold);
 *   - fact accuracy: answerable questions whose answer contains every expected fact;
 *   - false declines: answerable questions the assistant declined;
 *   - correct declines: out-of-scope questions and questions about the other property's facts that it
 *     declined (answering them is how an assistant invents or leaks facts);
 *   - cross-property citations: answers citing a document of another property (must be 0).
 *
 * Providers come from the environment as in production: OpenAI (or OPENAI_BASE_URL) embeddings and chat
 * when OPENAI_API_KEY is set, else the offline lexical embedder and extractive answerer.
 * `--verbose` prints every failing question with what was retrieved and answered; `--all` every question;
 * `--questions <file>` evaluates another question set (e.g. sandbox/lumaleasing/eval-questions-holdout.json).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq, inArray } from 'drizzle-orm';
import { composeAnswer, personaFor, type RetrievedPassage } from '../activities/lumaleasing-answer';
import { retrieveContext } from '../activities/lumaleasing-chat';
import { chunkDocument, detectDocumentType, extractDocumentText } from '../activities/lumaleasing-text';
import { loadConfig } from '../config';
import { createDatabase } from '../db/client';
import { createOrganization } from '../db/organizations';
import { properties } from '../db/schema';
import { DEMO_ORG } from '../db/seed';
import { withTenant } from '../db/tenancy';
import { insertReadyDocument } from './insert-ready-document';
import { embedderFromConfig } from '../integrations/embeddings';
import { chatModelFromConfig } from '../integrations/llm';
import { SAMPLE_PROPERTIES, loadSampleDocuments } from '../sandbox/lumaleasing/sample-documents';

/** A fact, or any one of several phrasings of it. */
type Fact = string | string[];

interface EvalQuestion {
  id: string;
  property: string;
  category: string;
  question: string;
  expect: 'answer' | 'decline';
  expectedDocument?: string | string[];
  expectedFacts?: Fact[];
  note?: string;
}

interface Outcome {
  q: EvalQuestion;
  /** Filenames of the top chunks at threshold 0, best first (one entry per chunk). */
  ranked: { filename: string; similarity: number; page: number | null }[];
  hitRank: number | null;
  answer: string;
  declined: boolean;
  passagesAboveThreshold: number;
  missingFacts: Fact[];
  crossPropertyCitations: number;
  ms: number;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const questionsArg = process.argv.indexOf('--questions');
const QUESTIONS_FILE =
  questionsArg > 0 && process.argv[questionsArg + 1]
    ? resolve(process.argv[questionsArg + 1]!)
    : join(HERE, '..', 'sandbox', 'lumaleasing', 'eval-questions.json');
const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
const showAll = process.argv.includes('--all');
const HIT_K = 5;

/** Case, curly apostrophes and whitespace (PDF line breaks) do not make a fact different. */
const normalise = (text: string) =>
  text
    .normalize('NFKC')
    .replace(/[\u2018\u2019\u2032]/g, "'")
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\s+/g, ' ')
    .toLowerCase();

const factPresent = (text: string, fact: Fact) =>
  (Array.isArray(fact) ? fact : [fact]).some((alt) => normalise(text).includes(normalise(alt)));

const factLabel = (fact: Fact) => (Array.isArray(fact) ? fact.map((f) => `"${f}"`).join(' | ') : `"${fact}"`);
const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}%`);
const ratio = (n: number, d: number) => `${n}/${d}`.padStart(7);
const line = (name: string, value: string) => console.log(`${name.padEnd(58)} ${value}`);
const oneLine = (text: string, max = 240) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

const { questions } = JSON.parse(readFileSync(QUESTIONS_FILE, 'utf8')) as { questions: EvalQuestion[] };
const tmp = mkdtempSync(join(tmpdir(), 'p11-rag-eval-'));
// Our own data directory: loadConfig may create an encryption key there in sandbox mode.
const config = loadConfig({ ...process.env, DATA_DIR: tmp });
const embedder = embedderFromConfig(config);
const chatModel = chatModelFromConfig(config);
const answerThreshold = config.lumaleasing.matchThreshold ?? embedder.defaultMatchThreshold;
const matchCount = config.lumaleasing.matchCount;

const database = await createDatabase();
try {
  await database.migrate();
  const db = database.db;
  const org = await createOrganization(db, {
    name: 'RAG Eval',
    slug: 'rag-eval',
    enabledProducts: ['lumaleasing'],
    properties: DEMO_ORG.properties,
  });
  const samples = [SAMPLE_PROPERTIES.reserve, SAMPLE_PROPERTIES.harbor];
  const propertyIdBySlug = new Map(samples.map((s, i) => [s.slug as string, org.propertyIds[i]!]));
  await withTenant(db, org.orgId, async (tx) => {
    for (const s of samples) {
      await tx
        .update(properties)
        .set({ settings: { lumaleasing: s.chat } })
        .where(eq(properties.id, propertyIdBySlug.get(s.slug)!));
    }
  });

  // ── Ingest ────────────────────────────────────────────────────────────────────────────────────────────
  console.log(
    `LumaLeasing RAG evaluation: ${questions.length} questions (${basename(QUESTIONS_FILE)}), embedder ${embedder.name}, ` +
      `answers ${chatModel ? chatModel.name : 'offline extractive (no chat model configured)'}\n`,
  );
  const filenameByDocumentId = new Map<string, string>();
  const propertyByDocumentId = new Map<string, string>();
  const textByDocument = new Map<string, string>(); // "<slug>/<filename>" → extracted text
  let chunkTotal = 0;
  const ingestStarted = performance.now();
  for (const s of samples) {
    const propertyId = propertyIdBySlug.get(s.slug)!;
    for (const doc of await loadSampleDocuments(s.slug)) {
      const type = detectDocumentType(doc.filename, doc.bytes);
      if (type !== doc.contentType)
        throw new Error(`${doc.filename}: detected as ${type}, expected ${doc.contentType}`);
      const extracted = await extractDocumentText(doc.bytes, type);
      textByDocument.set(`${s.slug}/${doc.filename}`, extracted.pages.map((p) => p.text).join('\n\n'));
      const { chunks, duplicates } = await chunkDocument(extracted.pages, { title: doc.title });
      const vectors = await embedder.embed(chunks.map((c) => c.content));
      const pages = type === 'application/pdf' ? extracted.pages.length : null;
      const documentId = await insertReadyDocument(db, {
        orgId: org.orgId,
        propertyId,
        filename: doc.filename,
        title: doc.title,
        contentType: type,
        bytes: doc.bytes,
        chunks,
        vectors,
        pages,
        duplicateChunks: duplicates,
        createdBy: 'rag-eval',
      });
      filenameByDocumentId.set(documentId, doc.filename);
      propertyByDocumentId.set(documentId, s.slug);
      chunkTotal += chunks.length;
      if (verbose) {
        console.log(
          `  ingested ${s.slug}/${doc.filename}: ${type}, ${pages ?? '-'} pages, ${chunks.length} chunks` +
            (duplicates ? ` (${duplicates} duplicates dropped)` : ''),
        );
      }
    }
  }
  const ingestMs = performance.now() - ingestStarted;
  line(
    'documents ingested',
    `${filenameByDocumentId.size} documents, ${chunkTotal} chunks in ${(ingestMs / 1000).toFixed(2)} s`,
  );

  // The question set's own consistency: every expected fact is in its expected document. A failure here is a
  // mistake in the question set, not in the system, and is reported apart from the figures.
  const datasetProblems: string[] = [];
  for (const q of questions) {
    if (!propertyIdBySlug.has(q.property)) datasetProblems.push(`${q.id}: unknown property ${q.property}`);
    if (q.expect !== 'answer') continue;
    const expected = [q.expectedDocument ?? []].flat();
    if (expected.length === 0) datasetProblems.push(`${q.id}: no expectedDocument`);
    const texts = expected.map((f) => textByDocument.get(`${q.property}/${f}`));
    if (texts.some((t) => t === undefined)) datasetProblems.push(`${q.id}: expectedDocument not found`);
    for (const fact of q.expectedFacts ?? []) {
      if (!texts.some((t) => t !== undefined && factPresent(t, fact))) {
        datasetProblems.push(`${q.id}: fact ${factLabel(fact)} is not in ${expected.join(' / ')}`);
      }
    }
  }

  // ── Ask ───────────────────────────────────────────────────────────────────────────────────────────────
  const propertyRows = await withTenant(db, org.orgId, (tx) =>
    tx.select().from(properties).where(inArray(properties.id, org.propertyIds)),
  );
  const personaBySlug = new Map(
    samples.map((s) => [
      s.slug as string,
      personaFor(propertyRows.find((p) => p.id === propertyIdBySlug.get(s.slug))!),
    ]),
  );
  const outcomes: Outcome[] = [];
  for (const q of questions) {
    const started = performance.now();
    const propertyId = propertyIdBySlug.get(q.property)!;
    const [embedding] = await embedder.embed([q.question]);
    const ranked: RetrievedPassage[] = await retrieveContext(db, org.orgId, propertyId, embedding!, {
      threshold: 0,
      count: HIT_K,
    });
    const passages: RetrievedPassage[] = await retrieveContext(db, org.orgId, propertyId, embedding!, {
      threshold: answerThreshold,
      count: matchCount,
    });
    const answer = await composeAnswer({
      question: q.question,
      passages,
      persona: personaBySlug.get(q.property)!,
      chatModel,
      history: [],
    });
    const ms = performance.now() - started;
    const rankedFiles = ranked.map((p) => ({
      filename: filenameByDocumentId.get(p.documentId) ?? `?${p.documentId}`,
      similarity: p.similarity,
      page: p.metadata?.page ?? null,
    }));
    const expected = new Set([q.expectedDocument ?? []].flat());
    const hitIndex = rankedFiles.findIndex((r) => expected.has(r.filename));
    outcomes.push({
      q,
      ranked: rankedFiles,
      hitRank: q.expect === 'answer' && hitIndex >= 0 ? hitIndex + 1 : null,
      answer: answer.content,
      declined: answer.declined,
      passagesAboveThreshold: passages.length,
      missingFacts: q.expect === 'answer' ? (q.expectedFacts ?? []).filter((f) => !factPresent(answer.content, f)) : [],
      crossPropertyCitations: answer.citations.filter((c) => propertyByDocumentId.get(c.documentId) !== q.property)
        .length,
      ms,
    });
  }

  // ── Report ────────────────────────────────────────────────────────────────────────────────────────────
  const answerable = outcomes.filter((o) => o.q.expect === 'answer');
  const unanswerable = outcomes.filter((o) => o.q.expect === 'decline');
  const hit1 = answerable.filter((o) => o.hitRank === 1);
  const hit5 = answerable.filter((o) => o.hitRank !== null && o.hitRank <= HIT_K);
  const correct = answerable.filter((o) => !o.declined && o.missingFacts.length === 0);
  const falseDeclines = answerable.filter((o) => o.declined);
  const wrongAnswers = answerable.filter((o) => !o.declined && o.missingFacts.length > 0);
  const declined = unanswerable.filter((o) => o.declined);
  const byCategory = (list: Outcome[], category: string) => list.filter((o) => o.q.category === category);
  const crossCitations = outcomes.reduce((n, o) => n + o.crossPropertyCitations, 0);
  const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b);

  console.log('');
  line('answer threshold (similarity) / chunks per answer', `${answerThreshold} / ${matchCount}`);
  line(
    `retrieval hit@1 (answerable questions)`,
    `${ratio(hit1.length, answerable.length)}  ${pct(hit1.length, answerable.length)}`,
  );
  line(
    `retrieval hit@${HIT_K} (answerable questions)`,
    `${ratio(hit5.length, answerable.length)}  ${pct(hit5.length, answerable.length)}`,
  );
  line(
    'answers containing every expected fact',
    `${ratio(correct.length, answerable.length)}  ${pct(correct.length, answerable.length)}`,
  );
  line(
    'false declines (answerable, declined)',
    `${ratio(falseDeclines.length, answerable.length)}  ${pct(falseDeclines.length, answerable.length)}`,
  );
  line(
    'answered but missing an expected fact',
    `${ratio(wrongAnswers.length, answerable.length)}  ${pct(wrongAnswers.length, answerable.length)}`,
  );
  line(
    'unanswerable questions correctly declined',
    `${ratio(declined.length, unanswerable.length)}  ${pct(declined.length, unanswerable.length)}`,
  );
  for (const category of ['out-of-scope', 'other-property']) {
    const all = byCategory(unanswerable, category);
    const ok = all.filter((o) => o.declined);
    line(`  of which ${category}`, `${ratio(ok.length, all.length)}  ${pct(ok.length, all.length)}`);
  }
  line("answers citing another property's document", String(crossCitations));
  line(
    'time per question (embed + 2 retrievals + answer)',
    `p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms  max ${latencies.at(-1)!.toFixed(1)} ms`,
  );

  console.log('\nper category (answerable): hit@1, hit@5, facts');
  const categories = [...new Set(answerable.map((o) => o.q.category))];
  for (const category of categories) {
    const all = byCategory(answerable, category);
    const h1 = all.filter((o) => o.hitRank === 1).length;
    const h5 = all.filter((o) => o.hitRank !== null).length;
    const ok = all.filter((o) => !o.declined && o.missingFacts.length === 0).length;
    console.log(
      `  ${category.padEnd(12)} n=${String(all.length).padEnd(3)} ${h1}/${all.length}  ${h5}/${all.length}  ${ok}/${all.length}`,
    );
  }

  const failures = outcomes.filter((o) =>
    o.q.expect === 'answer' ? o.declined || o.missingFacts.length > 0 || o.hitRank === null : !o.declined,
  );
  const verdict = (o: Outcome): string => {
    if (o.q.expect === 'decline') {
      return o.declined ? 'declined (correct)' : `ANSWERED an unanswerable question (${o.q.category})`;
    }
    const retrieval = o.hitRank === null ? `RETRIEVAL MISS (not in top ${HIT_K})` : `retrieved at rank ${o.hitRank}`;
    if (o.declined) {
      return `${retrieval}; FALSE DECLINE (${o.passagesAboveThreshold} chunks above threshold ${answerThreshold})`;
    }
    if (o.missingFacts.length) return `${retrieval}; ANSWER MISSING ${o.missingFacts.map(factLabel).join(', ')}`;
    return `${retrieval}; answer correct`;
  };
  const show = (o: Outcome) => {
    console.log(`\n[${o.q.id}] (${o.q.property}, ${o.q.category}) ${o.q.question}`);
    if (o.q.expect === 'answer') {
      console.log(
        `  expected: ${[o.q.expectedDocument].flat().join(' / ')}; facts ${(o.q.expectedFacts ?? []).map(factLabel).join(', ')}`,
      );
    } else {
      console.log(`  expected: decline${o.q.note ? ` (${o.q.note})` : ''}`);
    }
    console.log(`  verdict:  ${verdict(o)}`);
    console.log(
      `  top ${HIT_K}:    ${o.ranked.map((r) => `${r.filename}${r.page ? ` p.${r.page}` : ''} ${r.similarity.toFixed(3)}`).join(', ') || '(nothing)'}`,
    );
    console.log(`  answer:   ${oneLine(o.answer)}`);
  };

  console.log(`\nfailing questions (${failures.length}): ${failures.map((o) => o.q.id).join(', ') || 'none'}`);
  if (verbose || showAll) for (const o of showAll ? outcomes : failures) show(o);
  else if (failures.length) console.log('(run with --verbose for what each retrieved and answered)');

  if (datasetProblems.length) {
    console.log(`\nquestion set problems (${datasetProblems.length}):`);
    for (const p of datasetProblems) console.log(`  ${p}`);
  }
} finally {
  await database.close();
  rmSync(tmp, { recursive: true, force: true });
}
