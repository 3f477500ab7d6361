/**
 * Text embeddings for LumaLeasing's retrieval, behind one small interface: OpenAI's `text-embedding-3-small`
 * (or any OpenAI-compatible server) through the official `openai` SDK when a key is configured, and otherwise
 * an offline lexical embedder that says what it is (`local-lexical-1536`). Both produce 1536 dimensions, the
 * size of `documents.embedding`, so switching providers needs a re-ingest but never a migration.
 */
import OpenAI from 'openai';
import type { Config } from '../config';
import { EMBEDDING_DIMENSIONS } from '../db/schema/lumaleasing';

export { EMBEDDING_DIMENSIONS };

export interface Embedder {
  /** Recorded with answers and shown in the evaluation, e.g. "openai:text-embedding-3-small". */
  readonly name: string;
  readonly dimensions: number;
  /**
   * The cosine similarity below which a chunk is not context for a question. Similarity scales differ by
   * embedder (a lexical vector of a short question against a 500-token chunk scores far lower than a neural
   * one), so each embedder carries its own; `LUMALEASING_MATCH_THRESHOLD` overrides it.
   */
  readonly defaultMatchThreshold: number;
  /** One vector per text, in order; every vector has `dimensions` entries and unit length. */
  embed(texts: string[]): Promise<number[][]>;
}

// ── OpenAI ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface OpenAiEmbedderOptions {
  apiKey: string;
  /** e.g. https://api.openai.com/v1 or a compatible server's /v1 URL; the SDK's default when absent. */
  baseUrl?: string;
  model: string;
  /** Inputs per request. OpenAI accepts 2048; smaller requests keep each call (and a retry of it) short. */
  batchSize?: number;
  timeoutMs?: number;
}

const OPENAI_MAX_BATCH = 512;

export function createOpenAiEmbedder(options: OpenAiEmbedderOptions): Embedder {
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, timeout: options.timeoutMs ?? 60_000 });
  const batchSize = Math.max(1, Math.min(options.batchSize ?? OPENAI_MAX_BATCH, OPENAI_MAX_BATCH));
  return {
    name: `openai:${options.model}`,
    dimensions: EMBEDDING_DIMENSIONS,
    // text-embedding-3-small puts a question and a ~500-token passage that answers it at roughly 0.3-0.65
    // cosine, and a passage on another topic of the same domain (parking vs pets, both apartment text) at
    // 0.1-0.25; unrelated text lands near 0. 0.25 keeps the plausible answer passages (a recall-leaning cut:
    // the model is told to reply NOT_IN_CONTEXT when the passages that pass do not hold the answer, so the
    // threshold is not the last line of defence). Not measured here (no OpenAI access while building this);
    // `npm run eval:rag` with OPENAI_API_KEY set prints the figures to tune it by (LUMALEASING_MATCH_THRESHOLD).
    defaultMatchThreshold: 0.25,
    async embed(texts) {
      const vectors: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        // The API rejects empty strings; a single space embeds to "nothing said" and keeps the indexes aligned.
        const input = texts.slice(i, i + batchSize).map((t) => (t.trim() ? t : ' '));
        const response = await client.embeddings.create({ model: options.model, input, encoding_format: 'float' });
        const ordered = [...response.data].sort((a, b) => a.index - b.index);
        if (ordered.length !== input.length) {
          throw new Error(`Embedding API returned ${ordered.length} vectors for ${input.length} inputs`);
        }
        for (const item of ordered) {
          if (item.embedding.length !== EMBEDDING_DIMENSIONS) {
            throw new Error(
              `Embedding model ${options.model} returned ${item.embedding.length} dimensions; ` +
                `documents.embedding holds ${EMBEDDING_DIMENSIONS} (use text-embedding-3-small or a 1536-d model)`,
            );
          }
          vectors.push(item.embedding);
        }
      }
      return vectors;
    },
  };
}

// ── Offline lexical embedder ────────────────────────────────────────────────────────────────────────────────

const STOPWORDS = new Set(
  (
    'a about above after again against all also am an and any are aren arent as at be because been before being ' +
    'below between both but by can cannot cant could couldn did didn do does doesn doing don dont down during each ' +
    'either else ever every few for from further get gets getting got had has hasn have haven having he her here ' +
    'hers herself him himself his how however i id if ill im in into is isn it its itself ive just know let lets ' +
    'like me might mine more most much must my myself no nor not now of off ok okay on once one only or other ' +
    'our ours ourselves out over own per please really same shall she should so some such tell than thank thanks ' +
    'that thats the their theirs them themselves then there theres these they theyre this those through thus to ' +
    'too under until up upon us very via want wanted wants was wasn we were weren what whats when where whether ' +
    'which while who whom whose why will with within without would wouldn yes yet you youd youll your youre yours ' +
    'yourself yourselves hi hello hey dear wondering wonder curious question questions ask asking anyone anything ' +
    'something someone many lot lots able somewhere anywhere everywhere everything thing things stuff sort ' +
    'go going goes gone went come coming comes came take takes taking took put puts set sets make makes made ' +
    'choose chose happen happens happened tell told say said let see look looking find right'
  ).split(' '),
);

/**
 * Spellings and abbreviations folded to one word before stemming ("Mon–Fri", "hrs", "lbs", "Wi-Fi").
 * Keys are the tokens as split; values are ordinary words the rest of the analysis knows.
 */
const CANONICAL: Record<string, string> = {
  mon: 'monday',
  tue: 'tuesday',
  tues: 'tuesday',
  wed: 'wednesday',
  thu: 'thursday',
  thur: 'thursday',
  thurs: 'thursday',
  fri: 'friday',
  sat: 'saturday',
  sun: 'sunday',
  hr: 'hour',
  hrs: 'hour',
  mo: 'month',
  mos: 'month',
  mth: 'month',
  weigh: 'weight',
  weighs: 'weight',
  shortest: 'short',
  longest: 'long',
  cheapest: 'cheap',
  smallest: 'small',
  biggest: 'big',
  largest: 'large',
  renters: 'renter',
  leasing: 'leasing',
  spot: 'space',
  spots: 'space',
  fishing: 'fishing',
  monthly: 'month',
  yr: 'year',
  yrs: 'year',
  apt: 'apartment',
  apts: 'apartment',
  bd: 'bedroom',
  bdrm: 'bedroom',
  br: 'bedroom',
  ba: 'bathroom',
  lb: 'pound',
  lbs: 'pound',
  sqft: 'sqft',
  ft: 'feet',
  wifi: 'internet',
  bbq: 'grill',
  barbecue: 'grill',
  gym: 'gym',
  ev: 'ev',
  dogs: 'dog',
  kitty: 'cat',
  kitties: 'cat',
  doggy: 'dog',
  pup: 'puppy',
  pups: 'puppy',
  autos: 'auto',
  cars: 'car',
  email: 'email',
  phone: 'phone',
  tel: 'phone',
  washer: 'washer',
  sublease: 'sublet',
  subleasing: 'sublet',
  subletting: 'sublet',
};

/** Multi-word phrases rewritten to one word first, so "how much" asks about cost and "move-in" is one thing. */
const PHRASES: [RegExp, string][] = [
  [/\bhow much\b/g, ' cost '],
  [/\bon top of\b|\bin addition to\b/g, ' extra '],
  [/\bend(s|ed)? up\b/g, ' '],
  [/\b([ap])\.\s?m\.?(?=\s|$|[,;)])/g, ' $1m '],
  [/\bhow long\b/g, ' duration '],
  [/\bhow early\b/g, ' time '],
  [/\bwhat time\b/g, ' hour '],
  [/\bmove[\s-]?ins?\b/g, ' movein '],
  [/\bmove[\s-]?outs?\b/g, ' moveout '],
  [/\bmoving (in|into)\b/g, ' movein '],
  [/\bmoving out\b/g, ' moveout '],
  [/\bwi[\s-]?fi\b/g, ' internet '],
  [/\be-?mail\b/g, ' email '],
  [/\bwasher\s*\/\s*dryer\b/g, ' washer dryer '],
  [/\bw\s*\/\s*d\b/g, ' washer dryer '],
  [/\ba\s*\/\s*c\b/g, ' aircondition '],
  [/\bair[\s-]?condition(ing|ed|er)?\b/g, ' aircondition '],
  [/\bsq\.?\s*(ft|feet)\.?/g, ' sqft '],
  [/\bsquare (feet|foot|footage)\b/g, ' sqft '],
  [/\bfloor[\s-]?plans?\b/g, ' floorplan '],
  [/\bhot tubs?\b/g, ' hottub '],
  [/\bwork(ing)?[\s-]?out\b/g, ' workout '],
  [/\bpit[\s-]?bulls?\b/g, ' pitbull '],
  [/\bdog parks?\b/g, ' dogpark dog '],
  [/\bbusiness cent(er|re)s?\b/g, ' cowork '],
  [/\bco-?working\b/g, ' cowork '],
  [/\bservice animals?\b/g, ' serviceanimal animal '],
  [/\bemotional support animals?\b/g, ' serviceanimal animal '],
  [/\bpet[\s-]friendly\b/g, ' pet allow '],
  [/\bno[\s-]smoking\b|\bsmoke[\s-]free\b|\bnon[\s-]smoking\b/g, ' smoke nosmoking '],
  [/\b24\s*\/\s*7\b/g, ' 24hour '],
  [/\b24[\s-]hours?\b/g, ' 24hour '],
  [/\bcredit checks?\b/g, ' credit screening '],
  [/\bbackground checks?\b/g, ' background screening '],
  [/\bbreak(ing)? (my |the |a |our )?lease\b/g, ' terminate lease '],
  [/\bget out of (my |the |a )?lease\b/g, ' terminate lease '],
  [/\bend (my |the |a )?lease early\b/g, ' terminate lease early '],
  [/\bleasing (office|center|team|staff)\b/g, ' office '],
  [/\bhow far (ahead|in advance)\b|\bhow much notice\b|\bin advance\b/g, ' notice '],
  [/\byear[\s-]round\b|\ball year\b/g, ' yearround '],
  [/\bup[\s-]front\b/g, ' upfront '],
  [/\bup to (?=\$?\d)/g, ' limit '],
  [/\bfront desk\b/g, ' office '],
  [/\bcharging stations?\b/g, ' charger '],
  [/\belectric (car|vehicle)s?\b|\bteslas?\b/g, ' ev '],
];

/**
 * The concepts leasing questions are about. A word is the concept's `head` (it names it: "pet", "parking",
 * "fee"), a `member` (one kind of it: "dog", "garage", "kayak") or `related` (found near it: "leash",
 * "permit"). The roles make matching directional: a question about pets is answered by a sentence about dogs,
 * a question about a kayak is not answered by a sentence about bikes.
 */
interface ConceptDefinition {
  head: string;
  members?: string;
  related?: string;
  /**
   * What is said of the concept is not said of each member: "Amenities include a gym" does not answer "Is
   * there a sauna?", whereas "Pets are welcome" does answer "Can I have a dog?".
   */
  enumerates?: boolean;
}

const DOG_BREEDS =
  'retriever labrador lab terrier shepherd poodle bulldog husky beagle chihuahua doodle goldendoodle ' +
  'labradoodle corgi dachshund pug rottweiler pitbull doberman schnauzer spaniel collie akita chow mastiff';

const CONCEPT_DEFINITIONS: Record<string, ConceptDefinition> = {
  pet: {
    head: 'pet animal serviceanimal',
    members: `dog cat puppy kitten canine feline bird fish hamster rabbit reptile ferret snake guinea ${DOG_BREEDS}`,
    related: 'breed leash litter bark paw aquarium esa dogpark vet groom waste vaccination',
  },
  dog: { head: 'dog canine puppy', members: DOG_BREEDS, related: 'leash bark dogpark breed' },
  cat: { head: 'cat kitten feline', related: 'litter' },
  parking: {
    head: 'park parking',
    // A car is not a kind of parking, but "where does my car go" is a parking question.
    members: 'garage carport space spot driveway car',
    related: 'vehicle tow permit decal charger reserved covered',
  },
  vehicle: {
    // A rule for vehicles in general rarely settles a motorcycle, an RV or a boat trailer: those get their own.
    enumerates: true,
    head: 'vehicle auto automobile',
    members: 'car truck motorcycle suv van rv camper trailer ev',
    related: 'drive driver charger',
  },
  boat: {
    enumerates: true,
    head: 'boat watercraft',
    members: 'kayak paddleboard canoe sailboat jetski motorboat',
    related: 'dock rack',
  },
  cost: {
    head: 'cost fee price pricing charge rate pay payment expense dollar afford affordable penalty free extra additional',
    // Rent is one of the costs: "Are utilities included in the rent?" is answered by "$65 a month".
    members: 'rent',
    related: 'deposit amount expensive cheap month refund premium waive',
  },
  deposit: { head: 'deposit', members: 'refundable nonrefundable refund', related: 'security moveout damage' },
  rent: { head: 'rent rental', related: 'lease payment price' },
  amenity: {
    enumerates: true,
    head: 'amenity facility perk',
    members:
      'pool fitness gym clubhouse lounge spa sauna hottub rooftop terrace playground grill courtyard cowork tennis ' +
      'basketball pickleball yoga theater concierge elevator dogpark storage bike package firepit garden dock',
  },
  fitness: { head: 'gym fitness workout exercise', related: 'yoga treadmill peloton cardio' },
  pool: { head: 'pool swim swimming', related: 'cabana sundeck lifeguard' },
  hottub: { head: 'hottub jacuzzi spa' },
  hours: {
    head: 'hour open close closed schedule 24hour time',
    related:
      'monday tuesday wednesday thursday friday saturday sunday weekend weekday pm morning evening night ' +
      'noon midnight holiday appointment daily',
  },
  weekday: { head: 'weekday', members: 'monday tuesday wednesday thursday friday' },
  weekend: { head: 'weekend', members: 'saturday sunday' },
  season: { head: 'season seasonal yearround', members: 'winter summer spring autumn' },
  office: { head: 'office management manager staff team agent', related: 'contact call phone email visit' },
  contact: { head: 'contact call phone email reach text', related: 'office message number' },
  lease: {
    head: 'lease contract agreement',
    related: 'term month year renew renewal duration length sublet terminate movein',
  },
  duration: { head: 'duration length long term', related: 'month year week short minimum' },
  termination: {
    head: 'terminate termination break cancel cancellation buyout',
    related: 'early notice penalty relet sublet transfer',
  },
  notice: { head: 'notice notify inform' },
  alternative: { head: 'alternative option instead choice' },
  limit: { head: 'limit maximum max minimum cap' },
  size: { head: 'size weight pound', related: 'sqft' },
  utility: {
    enumerates: true,
    head: 'utility',
    members: 'water electric electricity gas trash sewer internet cable power',
    related: 'bill provider recycling valet',
  },
  laundry: { head: 'laundry washer dryer wash', related: 'detergent machine' },
  smoking: { head: 'smoke smoking nosmoking vape vaping cigarette tobacco marijuana cannabis' },
  maintenance: { head: 'maintenance repair fix broken leak emergency', related: 'request portal order technician' },
  application: {
    head: 'apply application applicant qualify qualification screening requirement',
    related: 'income credit background cosigner guarantor approve approval document eviction criminal',
  },
  insurance: { head: 'insurance insure', related: 'renter liability coverage' },
  tour: { head: 'tour showing viewing visit', related: 'appointment schedule model virtual' },
  movein: { head: 'movein move moving', related: 'key' },
  unit: { head: 'bedroom studio floorplan layout', related: 'bathroom sqft size unit apartment loft townhome' },
  storage: { head: 'storage store locker closet', related: 'bike cage rack', enumerates: true },
  package: { head: 'package parcel', related: 'locker mailroom mail' },
  delivery: { head: 'delivery deliver arrive carrier shipment', related: 'package mail' },
  security: { head: 'security safe safety gate gated camera', related: 'access fob patrol alarm' },
  accessibility: { head: 'accessible accessibility wheelchair ada disability', related: 'elevator ramp' },
  furnished: { head: 'furnished furniture unfurnished' },
  special: { head: 'special discount concession promotion promo deal', related: 'free waive offer' },
  permission: {
    head: 'allow permit permitted accept welcome prohibit prohibited forbid ban restrict restriction policy rule',
  },
  guest: { head: 'guest visitor', members: 'friend parent family relative', related: 'parking overnight' },
};

/** How a word stands to a concept. */
export type ConceptRelation = 'head' | 'member' | 'related';

export interface ConceptLink {
  concept: string;
  relation: ConceptRelation;
}

/**
 * Light suffix stripping, the same on both sides of a comparison: plurals, -ing, -ed and a final e go
 * ("leases", "leasing", "leased", "lease" → "leas"; "smoking", "smoke" → "smok"). It over-merges now and then,
 * which a synonym map tolerates far better than a missed plural.
 */
export function stemWord(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length >= 6) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length >= 5 && !w.endsWith('eed')) w = undouble(w.slice(0, -2));
  if (w.endsWith('e') && !w.endsWith('ee') && w.length >= 4) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  const last = w[w.length - 1];
  if (w.length >= 4 && last === w[w.length - 2] && last && !'lsz'.includes(last) && /[bcdfghjkmnpqrtvwxy]/.test(last)) {
    return w.slice(0, -1);
  }
  return w;
}

const RELATION_RANK: Record<ConceptRelation, number> = { head: 3, member: 2, related: 1 };

const CONCEPTS: ReadonlyMap<string, readonly ConceptLink[]> = (() => {
  const map = new Map<string, ConceptLink[]>();
  const add = (word: string, link: ConceptLink) => {
    const key = stemWord(CANONICAL[word] ?? word);
    const links = map.get(key) ?? [];
    const existing = links.find((l) => l.concept === link.concept);
    // A word listed twice keeps its stronger tie (head over member over related).
    if (!existing) links.push({ ...link });
    else if (RELATION_RANK[link.relation] > RELATION_RANK[existing.relation]) existing.relation = link.relation;
    map.set(key, links);
  };
  const words = (list: string | undefined) => (list ?? '').split(' ').filter(Boolean);
  for (const [concept, def] of Object.entries(CONCEPT_DEFINITIONS)) {
    for (const w of words(def.head)) add(w, { concept, relation: 'head' });
    for (const w of words(def.members)) add(w, { concept, relation: 'member' });
    for (const w of words(def.related)) add(w, { concept, relation: 'related' });
  }
  return map;
})();

const NO_CONCEPTS: readonly ConceptLink[] = [];

/** Whether a concept's statements list its members rather than cover them all (see ConceptDefinition). */
export function conceptEnumerates(concept: string): boolean {
  return CONCEPT_DEFINITIONS[concept]?.enumerates === true;
}
const NO_STEM = new Set(['leasing', 'fishing']);

/** The concepts a stemmed term belongs to (empty for words outside the leasing vocabulary). */
export function termConcepts(term: string): readonly ConceptLink[] {
  return CONCEPTS.get(term) ?? NO_CONCEPTS;
}

/**
 * The content terms of a text, in order: lower-cased, accents folded, phrases and abbreviations normalised,
 * stopwords dropped, stemmed. Money amounts add "dollar" so "$300" is about cost. Shared by the lexical
 * embedder and the extractive answerer, so retrieval and answer selection agree on what a word is.
 */
export function lexicalTerms(text: string): string[] {
  let normalised = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[\u2018\u2019']/g, '');
  normalised = normalised.replace(/\$\s?\d/g, (m) => ` dollar ${m.slice(1)}`);
  for (const [pattern, replacement] of PHRASES) normalised = normalised.replace(pattern, replacement);
  const terms: string[] = [];
  for (const token of normalised.split(/[^a-z0-9]+/)) {
    if (!token || STOPWORDS.has(token)) continue;
    // Single letters and long digit runs (phone numbers, years, zip codes) say little about the topic.
    if (token.length === 1 || /^\d{5,}$/.test(token) || /^0+$/.test(token)) continue;
    const canonical = CANONICAL[token] ?? token;
    if (STOPWORDS.has(canonical)) continue;
    // "leasing" (the office) must not stem to "lease" (the contract): every document mentions the office.
    terms.push(/^\d+$/.test(canonical) || NO_STEM.has(canonical) ? canonical : stemWord(canonical));
  }
  return terms;
}

// Feature weights. Exact words dominate; a concept shared only through synonyms still pulls the right chunk up
// ("Can I bring my dog?" finds "Pets are welcome"), a related word less so ("pool" is only one amenity).
const WEIGHT_UNIGRAM = 1;
const WEIGHT_NUMBER = 0.5;
const WEIGHT_BIGRAM = 0.6;
const WEIGHT_CONCEPT: Record<ConceptRelation, number> = { head: 0.8, member: 0.6, related: 0.4 };

/** FNV-1a over the feature's UTF-16 code units, then a murmur3 finaliser so nearby strings spread. */
function hash32(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The weighted features of a text before hashing (exported for tests and for explaining a match). */
export function lexicalFeatures(text: string): Map<string, number> {
  const terms = lexicalTerms(text);
  const counts = new Map<string, { weight: number; count: number }>();
  const add = (feature: string, weight: number) => {
    const entry = counts.get(feature);
    if (entry) {
      entry.count += 1;
      entry.weight = Math.max(entry.weight, weight);
    } else counts.set(feature, { weight, count: 1 });
  };
  for (const [i, term] of terms.entries()) {
    add(`w:${term}`, /^\d+$/.test(term) ? WEIGHT_NUMBER : WEIGHT_UNIGRAM);
    for (const link of termConcepts(term)) add(`c:${link.concept}`, WEIGHT_CONCEPT[link.relation]);
    const next = terms[i + 1];
    if (next !== undefined) add(`b:${term}_${next}`, WEIGHT_BIGRAM);
  }
  const features = new Map<string, number>();
  // Sublinear term frequency: a chunk that says "pet" ten times is more about pets, but not ten times more.
  for (const [feature, { weight, count }] of counts) features.set(feature, weight * (1 + Math.log(count)));
  return features;
}

export interface LexicalEmbedderOptions {
  /** Defaults to 1536 (the column size); tests may use fewer to provoke hash collisions. */
  dimensions?: number;
}

/**
 * The offline embedder: signed feature hashing of word unigrams, bigrams and leasing concepts into 1536
 * dimensions, L2-normalised, so cosine similarity is a weighted term overlap. Deterministic (same text, same
 * vector, on every machine), free and instant; it knows no meaning beyond its synonym map, which is why the
 * extractive answerer double-checks every match word by word.
 */
export function createLexicalEmbedder(options: LexicalEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? EMBEDDING_DIMENSIONS;
  return {
    name: `local-lexical-${dimensions}`,
    dimensions,
    // Measured with `npm run eval:rag` on the sample documents: a question against the chunk that answers it
    // scores 0.06-0.7 (a six-word question against a 400-token chunk stays low: "Can I work out at 5 in the
    // morning?" finds the fitness paragraph at 0.069), while chunks sharing no word or concept with the
    // question sit at hash-collision noise, mean 0, standard deviation about 0.02. 0.05 keeps every answering
    // chunk of the evaluation and drops most of the noise; a chunk that passes on noise alone shares no word
    // with the question, so the extractive answerer declines it anyway. Offline, the answerer's word-by-word
    // check, not this threshold, is the last line of defence.
    defaultMatchThreshold: 0.05,
    async embed(texts) {
      return texts.map((text) => lexicalVector(text, dimensions));
    },
  };
}

function lexicalVector(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const features = lexicalFeatures(text);
  // Nothing to say (punctuation only): a fixed direction instead of the zero vector, whose cosine is undefined.
  if (features.size === 0) features.set('empty:', 1);
  for (const [feature, weight] of features) {
    const index = hash32(feature, 0) % dimensions;
    const sign = hash32(feature, 0x9e3779b9) & 1 ? 1 : -1;
    vector[index]! += sign * weight;
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    // Every feature cancelled out in one bucket (vanishingly rare): fall back to that bucket, still deterministic.
    vector[hash32(text, 1) % dimensions] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

// ── From config ─────────────────────────────────────────────────────────────────────────────────────────────

/** OpenAI (or a compatible server) when a key is set; otherwise the offline lexical embedder. */
export function embedderFromConfig(config: Pick<Config, 'openai'>): Embedder {
  if (!config.openai.apiKey) return createLexicalEmbedder();
  return createOpenAiEmbedder({
    apiKey: config.openai.apiKey,
    baseUrl: config.openai.baseUrl,
    model: config.openai.embeddingModel,
  });
}
