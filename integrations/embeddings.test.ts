import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config';
import {
  EMBEDDING_DIMENSIONS,
  createLexicalEmbedder,
  createOpenAiEmbedder,
  embedderFromConfig,
  lexicalTerms,
  termConcepts,
} from './embeddings';

const cosine = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);
const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));

describe('lexical embedder', () => {
  const embedder = createLexicalEmbedder();

  test('is deterministic: the same text gives the same vector, from any instance', async () => {
    const text = 'Dogs up to 80 pounds are welcome; the pet deposit is $300.';
    const [a] = await embedder.embed([text]);
    const [b] = await createLexicalEmbedder().embed([text]);
    expect(a).toEqual(b);
    const [c] = await embedder.embed(['Covered carport spaces rent for $40 per month.']);
    expect(c).not.toEqual(a);
  });

  test('1536 dimensions, unit length, even for text with no words at all', async () => {
    expect(embedder.name).toBe('local-lexical-1536');
    expect(embedder.dimensions).toBe(EMBEDDING_DIMENSIONS);
    const vectors = await embedder.embed(['The leasing office is open Monday to Friday.', '?!', '']);
    for (const v of vectors) {
      expect(v).toHaveLength(1536);
      expect(norm(v)).toBeCloseTo(1, 9);
      expect(v.every(Number.isFinite)).toBe(true);
    }
  });

  test('light stemming and normalisation: plurals, -ing, abbreviations, money and phrases', () => {
    expect(lexicalTerms('Leases, leased, lease')).toEqual(['leas', 'leas', 'leas']);
    // The leasing office is not the lease.
    expect(lexicalTerms('the leasing office')).toEqual(['offic']);
    expect(lexicalTerms('Mon–Fri 9 a.m. to 6 p.m.')).toEqual(['monday', 'friday', 'pm']);
    expect(lexicalTerms('up to 80 lbs')).toEqual(['limit', '80', 'pound']);
    expect(lexicalTerms('How much is the Wi-Fi?')).toEqual(['cost', 'internet']);
    expect(lexicalTerms('A $300 deposit')).toEqual(['dollar', '300', 'deposit']);
  });

  test('the leasing vocabulary: a dog is a pet, a garage is parking, a kayak is a boat', () => {
    expect(termConcepts('dog')).toContainEqual({ concept: 'pet', relation: 'member' });
    expect(termConcepts('pet')).toContainEqual({ concept: 'pet', relation: 'head' });
    expect(termConcepts(lexicalTerms('garages')[0]!)).toContainEqual({ concept: 'parking', relation: 'member' });
    expect(termConcepts('kayak')).toContainEqual({ concept: 'boat', relation: 'member' });
    expect(termConcepts('sandpoint')).toEqual([]);
  });

  test('synonyms rank the pet document above the parking document for pet questions, and the other way round', async () => {
    const pet = 'Pet Policy. We welcome up to two animals per home: cats and dogs under 80 pounds. Deposit $300.';
    const parking =
      'Parking. Each home includes one surface space. Garages rent for $125 per month; visitors use marked spaces.';
    const [petVector, parkingVector] = await embedder.embed([pet, parking]);
    for (const question of ['Can I bring my puppy?', 'Do you allow pets?', 'Is my golden retriever OK?', 'cats?']) {
      const [q] = await embedder.embed([question]);
      expect(cosine(q!, petVector!), question).toBeGreaterThan(cosine(q!, parkingVector!) + 0.05);
    }
    for (const question of ['Where do I leave my car?', 'Is there a garage?', 'Where can my guests park?']) {
      const [q] = await embedder.embed([question]);
      expect(cosine(q!, parkingVector!), question).toBeGreaterThan(cosine(q!, petVector!) + 0.05);
    }
  });

  test('text sharing no word with a question stays near zero, below the default threshold', async () => {
    const [q] = await embedder.embed(['What is the capital of Australia?']);
    const [doc] = await embedder.embed(['Pets must be leashed in all common areas; waste stations are on every path.']);
    expect(Math.abs(cosine(q!, doc!))).toBeLessThan(embedder.defaultMatchThreshold);
  });
});

/** A tiny server speaking OpenAI's POST /v1/embeddings, recording requests. */
function startEmbeddingsServer(options: { dimensions: number }) {
  const requests: { auth: string | undefined; body: { model: string; input: string[]; encoding_format: string } }[] =
    [];
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (chunk) => (data += chunk));
      req.on('end', () => resolve(data));
    });
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(await read(req));
    requests.push({ auth: req.headers.authorization, body });
    // Deterministic vectors that encode the input's length in the first component; returned in reverse order,
    // as the API may (clients must order by `index`).
    const data = (body.input as string[]).map((text, index) => ({
      object: 'embedding',
      index,
      embedding: Array.from({ length: options.dimensions }, (_, i) => (i === 0 ? text.length : 0.001 * index)),
    }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        object: 'list',
        data: data.reverse(),
        model: body.model,
        usage: { prompt_tokens: 1, total_tokens: 1 },
      }),
    );
  });
  return new Promise<{ url: string; requests: typeof requests; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

describe('OpenAI embedder (over the openai SDK, against a local /v1/embeddings)', () => {
  let good: Awaited<ReturnType<typeof startEmbeddingsServer>>;
  let wrongSize: Awaited<ReturnType<typeof startEmbeddingsServer>>;
  beforeAll(async () => {
    good = await startEmbeddingsServer({ dimensions: 1536 });
    wrongSize = await startEmbeddingsServer({ dimensions: 3 });
  });
  afterAll(async () => {
    await good?.close();
    await wrongSize?.close();
  });

  test('batches, asks for floats, keeps the input order, and replaces empty inputs', async () => {
    const embedder = createOpenAiEmbedder({
      apiKey: 'sk-test',
      baseUrl: good.url,
      model: 'text-embedding-3-small',
      batchSize: 2,
    });
    expect(embedder.name).toBe('openai:text-embedding-3-small');
    expect(embedder.dimensions).toBe(1536);
    const texts = ['a', 'bb', '', 'dddd', 'eeeee'];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(5);
    // In input order despite the reversed response; the empty input went out as " " (length 1).
    expect(vectors.map((v) => v[0])).toEqual([1, 2, 1, 4, 5]);
    expect(vectors.every((v) => v.length === 1536)).toBe(true);
    expect(good.requests.map((r) => r.body.input)).toEqual([['a', 'bb'], [' ', 'dddd'], ['eeeee']]);
    for (const r of good.requests) {
      expect(r.body).toMatchObject({ model: 'text-embedding-3-small', encoding_format: 'float' });
      expect(r.auth).toBe('Bearer sk-test');
    }
  });

  test('a model with the wrong dimension is an error naming the column size', async () => {
    const embedder = createOpenAiEmbedder({ apiKey: 'sk-test', baseUrl: wrongSize.url, model: 'tiny-model' });
    await expect(embedder.embed(['hello'])).rejects.toThrow(/3 dimensions.*1536/);
  });

  test('embedderFromConfig: OpenAI with a key, the offline embedder without', () => {
    const offline = embedderFromConfig(loadConfig({ DATA_DIR: '/tmp/p11-embeddings-test', OPENAI_API_KEY: '' }));
    expect(offline.name).toBe('local-lexical-1536');
    const online = embedderFromConfig(
      loadConfig({ DATA_DIR: '/tmp/p11-embeddings-test', OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: good.url }),
    );
    expect(online.name).toBe('openai:text-embedding-3-small');
  });
});
