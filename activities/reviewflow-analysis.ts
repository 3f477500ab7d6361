/**
 * Review analysis (seed 000 9.2): `{ sentiment, topics, urgent }` from the star rating and the text.
 *
 * - With a model configured: the LLM answers JSON, validated with zod against the closed sentiment and topic
 *   lists; anything invalid (or a model error) falls back to the local classifier, and `analyzer` says which ran.
 * - Offline: a lexicon classifier, not an LLM. AFINN-165 (the `sentiment` package) extended with an apartment
 *   vocabulary (roaches, mold, towed, unresponsive, spotless...), complaint phrases AFINN misses ("never fixed",
 *   "no hot water", "still waiting"), common sarcasm openers, and the clause after "but" weighted double. The
 *   rating and the text are then combined (see `combine`).
 * - Every analysis, the LLM's included, goes through the urgency safety net: health, safety and legal issues
 *   force `urgent` whatever the stars say, so a 5-star review that mentions mold is urgent and never auto-posted
 *   as a cheery thank-you (a positive rating with an urgent complaint is at best neutral).
 *
 * Measured on the labelled set in reviewflow-labelled-reviews.ts (printed by its test and `npm run bench:reviewflow`).
 */
import Sentiment from 'sentiment';
import { z } from 'zod';
import { REVIEW_SENTIMENTS, REVIEW_TOPICS, type ReviewSentiment, type ReviewTopic } from '../db/schema/reviewflow';
import type { ChatModel } from '../integrations/llm';
import type { ReviewAnalysis } from '../workflows/reviewflow';

export interface ReviewForAnalysis {
  rating: number | null;
  text: string | null;
}

export interface ReviewAnalyser {
  analyse(review: ReviewForAnalysis): Promise<ReviewAnalysis>;
}

export const LOCAL_ANALYZER_VERSION = 'local:reviewflow-lexicon-1';

/** Apartment-life words AFINN lacks or weighs for other contexts (AFINN scale, -5..5). */
const DOMAIN_WORDS: Record<string, number> = {
  roach: -4,
  roaches: -4,
  cockroaches: -4,
  mice: -3,
  rats: -4,
  rodents: -4,
  bedbugs: -5,
  mold: -4,
  moldy: -4,
  mould: -4,
  mildew: -3,
  infestation: -4,
  leak: -3,
  leaking: -3,
  leaks: -3,
  flooded: -3,
  sewage: -4,
  broken: -3,
  unresponsive: -3,
  unprofessional: -3,
  rude: -3,
  towed: -2,
  towing: -2,
  smells: -2,
  smelly: -2,
  stinks: -3,
  filthy: -4,
  dirty: -2,
  noisy: -2,
  loud: -1,
  overpriced: -3,
  nightmare: -3,
  unsafe: -4,
  outage: -2,
  scam: -4,
  slumlord: -5,
  avoid: -3,
  waste: -2,
  ignored: -2,
  ghosted: -3,
  spotless: 3,
  immaculate: 3,
  responsive: 2,
  quiet: 1,
  clean: 2,
  friendly: 2,
  helpful: 2,
  courteous: 2,
  gorgeous: 3,
  cozy: 2,
  renewing: 2,
  recommend: 2,
  smooth: 2,
  welcoming: 2,
  attentive: 2,
  prompt: 2,
  promptly: 2,
  convenient: 1,
  spacious: 2,
  updated: 1,
  modern: 1,
  okay: 0,
  ok: 0,
  fine: 0,
};

/** Complaint phrases whose words look neutral one by one. */
const NEGATIVE_PHRASES: RegExp[] = [
  /\bnever (?:got |been )?(?:fixed|repaired|returned|responded|called back|showed up|came)\b/,
  /\bno (?:hot water|heat|heating|ac|a\/c|air conditioning|water|response|one (?:answers|responds|came|showed))\b/,
  /\bnobody (?:answers|responds|came|showed|cares|calls)\b/,
  /\bstill (?:waiting|broken|not fixed|no)\b/,
  /\b(?:weeks?|months?) (?:without|and no|later and)\b/,
  /\bdo(?:es)? ?n[o']t (?:feel safe|recommend|care|respond|answer|return)\b/,
  /\b(?:kept|stole|withheld) (?:my|our|the) (?:whole |entire )?deposit\b/,
  /\bthanks for nothing\b/,
  /\bstay away\b/,
  /\bnot worth\b/,
  /\bwould not (?:recommend|rent)\b/,
  /\bworst\b/,
  /\bhidden fees?\b/,
  /\brent (?:increase|hike)\b/,
];

/** Openers that usually flip the praise after them ("Oh great, another month without a gate"). */
const SARCASM: RegExp[] = [
  /\b(?:oh|just) (?:great|wonderful|fantastic|lovely|perfect)\b/,
  /\blove (?:paying|waiting|how (?:nobody|no one|they never))\b/,
  /\bwhat a (?:joke|surprise)\b/,
  /\b(?:yeah|sure),? right\b/,
  /\bfive stars? for (?:the|their) (?:excuses|effort)\b/,
];

const POSITIVE_PHRASES: RegExp[] = [
  /\bcan(?:no|')t say enough\b/,
  /\bhighly recommend\b/,
  /\bfeels? like home\b/,
  /\bgo(?:es)? above and beyond\b/,
  /\bno complaints\b/,
  /\bno issues\b/,
  /\bno problems?\b/,
];

/** Health, safety and legal issues: staff must see these fast, whatever the stars. */
const URGENT_PATTERNS: { reason: string; pattern: RegExp }[] = [
  { reason: 'mold', pattern: /\b(?:black |toxic )?mou?ld(?:y)?\b|\bmildew\b/ },
  {
    reason: 'gas or carbon monoxide',
    pattern: /\bgas (?:leak|smell)|\bsmell(?:s|ed)? (?:of |like )?gas\b|\bcarbon monoxide\b|\bco detector\b/,
  },
  { reason: 'fire', pattern: /\b(?:caught fire|on fire|fire (?:alarm|hazard|started|broke out)|smoke detector)\b/ },
  {
    reason: 'flooding or sewage',
    pattern: /\bflood(?:ed|ing)?\b|\bsewage\b|\bsewer (?:backup|back up)\b|\bwater (?:pouring|everywhere)\b/,
  },
  {
    reason: 'water leak',
    pattern:
      /\b(?:ceiling|roof) (?:is |was |has been )?leak\w*|\bleak\w* (?:through|from|into) (?:the |my |our )?(?:ceiling|roof|walls?|unit|bedroom)|\bwater (?:leak\w*|coming|dripping) (?:through|in|from|into)\b/,
  },
  {
    reason: 'no heat, water or cooling',
    pattern:
      /\bno (?:heat|heating|hot water|running water|water|ac|a\/c|air conditioning)\b|\bheat (?:is |was )?(?:out|broken|not working)\b/,
  },
  {
    reason: 'broken lock or door',
    pattern:
      /\b(?:lock|locks|deadbolt|door|gate) (?:is |was |has been |have been )?(?:broken|busted|not (?:working|locking)|won'?t lock)\b|\bbroken (?:lock|deadbolt|front door)\b/,
  },
  {
    reason: 'crime or safety',
    pattern:
      /\bbreak[- ]?ins?\b|\bbroke into\b|\bburglar|\bassault|\bstolen\b|\brobbed\b|\bshooting\b|\bgunshots?\b|\bdo(?:es)? ?n[o']t feel safe\b|\bunsafe\b|\bdangerous\b/,
  },
  {
    reason: 'injury',
    pattern:
      /\binjur(?:y|ed|ies)\b|\b(?:fell|tripped) (?:on|down|through)\b|\bhospital\b|\bbroke my (?:arm|leg|ankle|wrist)\b/,
  },
  { reason: 'pests', pattern: /\bbed ?bugs?\b|\binfest(?:ed|ation)\b|\b(?:roaches|cockroaches|rats|mice|rodents)\b/ },
  {
    reason: 'legal',
    pattern:
      /\blawsuit\b|\bsue\b|\battorney\b|\blawyer\b|\bdiscriminat\w*|\bfair housing\b|\bADA\b|\bcode (?:violation|enforcement)\b|\bhealth department\b/i,
  },
  {
    reason: 'electrical or structural hazard',
    pattern:
      /\bexposed wir(?:es|ing)\b|\bsparks?\b|\bceiling (?:collapsed|caved|falling)\b|\belectrical (?:fire|hazard)\b/,
  },
];

/** Topic keywords (stems match word starts: "maint" covers maintenance, "pest" covers pests). */
const TOPIC_KEYWORDS: Record<ReviewTopic, RegExp> = {
  maintenance:
    /\b(?:maint\w*|repair\w*|work orders?|fix(?:ed|ing)?|broken|dishwasher|fridge|refrigerator|washer|dryer|ac|a\/c|hvac|heat(?:er|ing)?|plumb\w*|leak\w*|elevator|toilet|sink|appliances?)\b/,
  cleanliness: /\b(?:clean\w*|dirty|filthy|spotless|trash|garbage|smell\w*|stink\w*|immaculate|dust\w*|grime)\b/,
  noise:
    /\b(?:nois\w*|loud|quiet|thin walls?|walls are (?:a little |really |paper )?thin|neighbou?rs? (?:above|below|upstairs)|parties|music|barking)\b/,
  staff:
    /\b(?:staff|team|front desk|leasing (?:agent|office|staff)|agent|concierge|porter|employees?|[A-Z][a-z]+ in the (?:office|leasing office))\b/,
  management: /\b(?:manag\w*|office|landlord|corporate|owners?|ownership)\b/,
  amenities:
    /\b(?:amenit\w*|pool|gym|fitness|clubhouse|dog park|grill\w*|rooftop|lounge|business center|laundry|coworking|courtyard|spa|sauna)\b/,
  parking: /\b(?:park(?:ing)?|garage|tow\w*|spots?|carport|visitors? parking)\b/,
  pests: /\b(?:pests?|roach\w*|cockroach\w*|mice|mouse|rats?|rodents?|bed ?bugs?|ants|infest\w*|exterminat\w*)\b/,
  safety:
    /\b(?:safe|safety|unsafe|security|secure|gate|locks?|crime|break[- ]?ins?|stolen|cameras?|lighting|dangerous)\b/,
  mold: /\b(?:mou?ld\w*|mildew)\b/,
  pricing: /\b(?:rent|price\w*|pricing|fees?|expensive|overpriced|value|cost\w*|increase|deposit|afford\w*)\b/,
  move_in: /\b(?:move[- ]?in|moving in|moved in)\b/,
  move_out: /\b(?:move[- ]?out|moving out|moved out|deposit)\b/,
  location: /\b(?:location|neighbou?rhood|area|close to|near(?:by)?|walkable|commute|downtown|lake)\b/,
  communication: /\b(?:communicat\w*|emails?|calls?|phone|respon\w*|answer\w*|ignored|ghosted|portal|notice)\b/,
  package_handling: /\b(?:packages?|parcels?|deliver\w*|lockers?|mail\s?room|amazon)\b/,
  pets: /\b(?:pets?|dogs?|cats?|puppy|pet[- ]friendly|dog park)\b/,
};

const analyser = new Sentiment();

function normalise(text: string): string {
  return text.toLowerCase().replace(/[’‘]/g, "'").replace(/\s+/g, ' ').trim();
}

/** AFINN + domain words, with phrases, sarcasm and "but" clauses. Positive is praise. */
export function textPolarity(text: string): number {
  const t = normalise(text);
  // The clause after the last "but"/"however" usually carries the verdict: count it twice.
  const split = t.split(/\b(?:but|however|although|except|unfortunately)\b/);
  const afterBut = split.length > 1 ? split[split.length - 1]! : '';
  let score = analyser.analyze(t, { extras: DOMAIN_WORDS }).score;
  if (afterBut) score += analyser.analyze(afterBut, { extras: DOMAIN_WORDS }).score;
  for (const p of NEGATIVE_PHRASES) if (p.test(t)) score -= 3;
  for (const p of POSITIVE_PHRASES) if (p.test(t)) score += 3;
  const sarcastic = SARCASM.some((p) => p.test(t));
  if (sarcastic) score = -Math.abs(score) - 3;
  return score;
}

function textLabel(text: string): { label: ReviewSentiment; strength: number } {
  const score = textPolarity(text);
  // Long texts accumulate words of both signs: judge them a little more strictly.
  const words = text.split(/\s+/).length;
  const threshold = words > 60 ? 3 : 2;
  if (score >= threshold) return { label: 'positive', strength: score };
  if (score <= -threshold) return { label: 'negative', strength: score };
  return { label: 'neutral', strength: score };
}

function ratingLabel(rating: number): ReviewSentiment {
  if (rating >= 4) return 'positive';
  if (rating <= 2) return 'negative';
  return 'neutral';
}

/**
 * Rating and text together:
 * - only one of them: it decides;
 * - they agree: that;
 * - 3 stars: the text decides when it is clear, otherwise neutral;
 * - low stars with praising words: negative (sarcasm and "great staff, but…" are common; the stars are the verdict);
 * - high stars with a complaint: neutral, or negative when the complaint is strong or urgent (never "positive",
 *   so it is never auto-posted as a thank-you).
 */
function combine(rating: number | null, text: { label: ReviewSentiment; strength: number } | null, urgent: boolean) {
  if (rating === null && text === null) return 'neutral' as const;
  if (rating === null) return urgent && text!.label === 'positive' ? 'neutral' : text!.label;
  const byRating = ratingLabel(rating);
  if (text === null) return byRating;
  if (rating === 3) return text.label;
  if (byRating === 'negative') return 'negative';
  // Positive rating.
  if (text.label === 'negative') return text.strength <= -6 || urgent ? 'negative' : 'neutral';
  if (urgent) return 'neutral';
  return 'positive';
}

export function detectUrgency(text: string | null): { urgent: boolean; reasons: string[] } {
  if (!text) return { urgent: false, reasons: [] };
  const t = normalise(text);
  const reasons = URGENT_PATTERNS.filter(({ pattern }) => pattern.test(t) || pattern.test(text)).map((u) => u.reason);
  // "The pool is on fire" style praise and "fire pit" amenities are not emergencies.
  const figurative = /\b(?:fire ?pits?|firepit|fireplace|on fire(?: with)? (?:deals|specials))\b/.test(t);
  const filtered = figurative ? reasons.filter((r) => r !== 'fire') : reasons;
  return { urgent: filtered.length > 0, reasons: filtered };
}

export function detectTopics(text: string | null): ReviewTopic[] {
  if (!text) return [];
  const t = text.replace(/[’‘]/g, "'");
  return REVIEW_TOPICS.filter((topic) => TOPIC_KEYWORDS[topic].test(topic === 'staff' ? t : t.toLowerCase()));
}

export function analyseReviewLocally(review: ReviewForAnalysis): ReviewAnalysis {
  const text = review.text?.trim() ? review.text : null;
  const { urgent } = detectUrgency(text);
  const rating = review.rating !== null && review.rating >= 1 && review.rating <= 5 ? review.rating : null;
  return {
    sentiment: combine(rating, text ? textLabel(text) : null, urgent),
    topics: detectTopics(text),
    urgent,
    analyzer: LOCAL_ANALYZER_VERSION,
  };
}

const llmAnswer = z.object({
  sentiment: z.enum(REVIEW_SENTIMENTS),
  topics: z.array(z.string()).max(20),
  urgent: z.boolean(),
});

const SYSTEM_PROMPT = `You triage online reviews of apartment communities for the property's staff.
Answer with one JSON object and nothing else: {"sentiment": "positive" | "neutral" | "negative", "topics": [...], "urgent": boolean}.
- sentiment: the reviewer's overall experience. The star rating and the text both count; sarcasm is negative; a high rating whose text reports a real problem is at most neutral.
- topics: only from this list: ${REVIEW_TOPICS.join(', ')}.
- urgent: true when the review reports a health, safety or legal issue (mold, leaks or flooding, no heat or water, gas, fire, pests, broken locks, crime, injury, discrimination, threats of legal action), whatever the rating.`;

export function createLlmReviewAnalyser(chatModel: ChatModel): ReviewAnalyser {
  return {
    async analyse(review) {
      const local = analyseReviewLocally(review);
      let parsed: z.infer<typeof llmAnswer>;
      try {
        const raw = await chatModel.complete(
          [
            { role: 'system', content: SYSTEM_PROMPT },
            {
              role: 'user',
              content: `Rating: ${review.rating === null ? 'none' : `${review.rating} of 5 stars`}\nReview: ${review.text?.trim() || '(no text)'}`,
            },
          ],
          { temperature: 0, maxTokens: 200 },
        );
        const json = raw.slice(raw.indexOf('{'), raw.lastIndexOf('}') + 1);
        parsed = llmAnswer.parse(JSON.parse(json));
      } catch {
        return local;
      }
      const topics = parsed.topics.filter((t): t is ReviewTopic => (REVIEW_TOPICS as readonly string[]).includes(t));
      // The safety net applies to the model too: an urgent issue it missed is still urgent, and never "positive".
      const urgent = parsed.urgent || local.urgent;
      const sentiment = urgent && parsed.sentiment === 'positive' ? 'neutral' : parsed.sentiment;
      return { sentiment, topics: [...new Set(topics)], urgent, analyzer: `llm:${chatModel.name}` };
    },
  };
}

export function reviewAnalyserFor(chatModel: ChatModel | null): ReviewAnalyser {
  if (chatModel) return createLlmReviewAnalyser(chatModel);
  return { analyse: async (review) => analyseReviewLocally(review) };
}
