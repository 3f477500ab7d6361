/**
 * Review analysis (seed 000 9.2): `{ sentiment, topics, urgent }` from the star rating and the text.
 *
 * - With a model configured: the LLM answers JSON, validated with zod against the closed sentiment and topic
 *   lists; anything invalid (or a model error) falls back to the local classifier, and `analyzer` says which ran.
 * - Offline: a lexicon classifier, not an LLM. AFINN-165 (the `sentiment` package) extended with an apartment
 *   vocabulary (roaches, mold, towed, unresponsive, spotless...), complaint and praise phrases AFINN scores wrong or
 *   not at all ("never fixed", "no hot water", "nobody tells us", "no complaints"), negation over the two words
 *   before a scored word ("not clean", "nothing has improved"), a few sarcasm openers, and the clause after the
 *   last "but" weighted double. The rating and the text are then combined (see `combine`). It reads English only:
 *   other languages are judged by their stars.
 * - Every analysis, the LLM's included, goes through the urgency safety net (`detectUrgency`): health, safety and
 *   legal issues force `urgent` whatever the stars say, so a 5-star review that mentions mold is urgent, and it is
 *   never `positive` (a positive rating with an urgent complaint is at best neutral), so it is never auto-posted
 *   as a cheery thank-you. The net favours recall: a false alarm costs staff a glance, a miss costs a resident.
 *
 * Measured on the labelled set in reviewflow-labelled-reviews.ts (printed by its test and by
 * `bench/reviewflow-classifier.ts`).
 */
import { createRequire } from 'node:module';
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

/** The offline classifier: an AFINN-165 lexicon with apartment rules. Bump the number when its rules change. */
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
  droppings: -3,
  mold: -4,
  moldy: -4,
  mould: -4,
  mildew: -3,
  infestation: -4,
  leak: -3,
  leaking: -3,
  leaks: -3,
  leaky: -2,
  thin: -1,
  small: -1,
  tiny: -1,
  dated: -1,
  cramped: -2,
  flooded: -3,
  sewage: -4,
  broken: -3,
  unresponsive: -3,
  unprofessional: -3,
  condescending: -3,
  rude: -3,
  towed: -2,
  towing: -2,
  smells: -2,
  smelly: -2,
  stinks: -3,
  filthy: -4,
  dirty: -2,
  noise: -2,
  noisy: -2,
  impossible: -2,
  steep: -1,
  fee: -1,
  fees: -1,
  jammed: -2,
  sticky: -1,
  overflowing: -2,
  shady: -3,
  smoke: -1,
  musty: -3,
  downhill: -2,
  yelled: -3,
  // AFINN's "pay" is negative, but "you get what you pay for" and "I pay rent" are not complaints.
  pay: 0,
  // Mostly the rent's ("a $400 increase"), which AFINN scores as good news.
  increase: -1,
  loud: -1,
  mediocre: -2,
  overpriced: -3,
  pricey: -1,
  nightmare: -3,
  unsafe: -4,
  outage: -2,
  scam: -4,
  thieves: -4,
  slumlord: -5,
  avoid: -3,
  waste: -2,
  ignored: -2,
  ghosted: -3,
  voicemail: -1,
  meh: -1,
  slow: -1,
  tough: -1,
  // AFINN scores these as feelings; in reviews they are mostly plain verbs ("more interested in their phones").
  interested: 0,
  helping: 0,
  incredible: 4,
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
  renovated: 1,
  modern: 1,
  decent: 1,
  solid: 1,
  alright: 1,
  painless: 2,
  tidy: 2,
  okay: 0,
  ok: 0,
  // "It's fine" in a review is lukewarm, not praise.
  fine: 0,
};

/** Words that flip the score of a word one or two tokens after them ("not clean", "never been friendly"). */
const NEGATORS = new Set([
  'not',
  'no',
  'never',
  'nothing',
  'nobody',
  'hardly',
  'barely',
  'without',
  'cant',
  "can't",
  'cannot',
  'dont',
  "don't",
  'doesnt',
  "doesn't",
  'didnt',
  "didn't",
  'isnt',
  "isn't",
  'wasnt',
  "wasn't",
  'wont',
  "won't",
  'arent',
  "aren't",
]);

const requireJson = createRequire(import.meta.url);
const AFINN: Record<string, number> = requireJson('sentiment/languages/en/labels.json');
const LANGUAGE = 'reviewflow-en';
const analyser = new Sentiment();
analyser.registerLanguage(LANGUAGE, {
  labels: { ...AFINN, ...DOMAIN_WORDS },
  scoringStrategy: {
    apply(tokens, cursor, score) {
      const negated = [tokens[cursor - 1], tokens[cursor - 2]].some((t) => t !== undefined && NEGATORS.has(t));
      // A negated word is weaker than its opposite: "not great" is disappointed, not furious.
      return negated ? -score / 2 : score;
    },
  },
});

/**
 * Phrases scored as a whole, and removed before the word scores so their words do not count twice
 * ("no complaints" is praise, though "no" and "complaints" are both negative words).
 */
const PHRASES: [RegExp, number][] = [
  // Praise.
  [/\bcan(?:no|')?t say enough\b/g, 3],
  [/\bhighly recommend\b/g, 3],
  [/\bfeels? like home\b/g, 3],
  [/\bgo(?:es)?,? above and beyond\b|\bwent above and beyond\b/g, 3],
  [/\bno (?:major |real |big |serious )?(?:complaints|issues|problems?|drama)\b/g, 2],
  // Amenities, not emergencies (AFINN scores "fire" as bad).
  [/\bfire ?pits?\b|\bfireplaces?\b/g, 0],
  [/\bstress[- ]free\b/g, 2],
  [/\b(?:10|ten)\/10\b/g, 3],
  [/\bwould (?:live|rent|stay) here again\b|\bwould rent again\b/g, 3],
  [/\bgame[- ]changer\b/g, 2],
  [/\bshout ?out\b/g, 2],
  [/\btop notch\b/g, 3],
  // "Like" as a comparison is not affection: "smells like smoke", "feels like forever".
  [
    /\b(?:smells?|smelled|smelling|looks?|looked|feels?|felt|seems?|seemed|sounds?|sounded|something|stuff|things?) like\b/g,
    0,
  ],
  // Lukewarm.
  [/\bnothing (?:special|fancy|great|to write home about|to rave about|to brag about)\b/g, -1],
  [/\bhit or miss\b|\bhit and miss\b/g, -2],
  [/\btakes? (?:a while|a bit|some time)\b/g, -1],
  [
    /\b(?:rent|price|prices|fees?|it) (?:is|are) (?:a little |a bit |kinda |kind of |too |very |really |pretty )?(?:high|steep|expensive)\b/g,
    -2,
  ],
  // Complaints whose words look neutral one by one.
  [
    /\bnever (?:got |been |gets |get )?(?:fixed|repaired|returned|responded|called back|showed up|came|comes|answer\w*|cleaned|wiped|emptied)\b/g,
    -3,
  ],
  [/\bnothing (?:works|changes|gets done|has changed|ever gets fixed)\b/g, -3],
  [
    /\b(?:no|zero) (?:hot water|heat|heating|ac|a\/c|air conditioning|water|response|responses|reply|replies|communication|help|call back|one (?:answers|responds|came|comes|showed|cares|calls|tells))\b/g,
    -3,
  ],
  [/\bnot (?:one|a single) (?:call|email|response|reply)\b/g, -3],
  [
    /\b(?:nobody|no one) (?:has |have |ever |seems to |seem to )?(?:answers?|responds?|came|come|comes|showed|cares?|calls?|tells?|told|knows?|does|did|enforces?|cleans?|fixe[sd]|checked)\b/g,
    -3,
  ],
  [/\bstill (?:waiting|broken|leaking|blowing|not|no|hasn'?t|haven'?t|isn'?t|doesn'?t|don'?t|dealing|without)\b/g, -2],
  [/\b(?:weeks?|months?) (?:without|and no|later and|with no)\b/g, -2],
  [
    /\b(?:elevator|gym|pool|laundry|washer|dryer|gate|ac|a\/c|heat|hot water|internet|wifi)s? (?:is |are |was |has been |have been )?(?:always |often |constantly |still )?(?:out|down|closed|broken|not working)\b/g,
    -2,
  ],
  [/\bdo(?:es)? ?n[o']t (?:feel safe|recommend|care|respond|answer|return|bother)\b/g, -3],
  [/\b(?:no longer|never) feel safe\b/g, -3],
  [/\b(?:kept|stole|withheld) (?:my|our|the) (?:whole |entire )?deposit\b/g, -3],
  [/\bthanks for nothing\b/g, -4],
  [/\bstay away\b/g, -3],
  [/\bnot worth\b/g, -3],
  [/\bwould(?:n'?t| not) (?:recommend|rent|live)\b/g, -3],
  [/\bdo not (?:move|rent|live)\b/g, -3],
  [/\bworst\b/g, -4],
  [/\bhidden fees?\b|\bsurprise fees?\b|\blate fees?\b/g, -2],
  [/\brent (?:increase|hike|went up|keeps going up|is going up|goes up)\b|\braised (?:the|my|our) rent\b/g, -2],
  [/\bexpected (?:better|more)\b/g, -2],
  [/\b(?:is|are) (?:a )?(?:whole )?(?:different|another) story\b/g, -2],
  [/\bif you can (?:get|find|book|ever)\b/g, -1],
  [/\b(?:takes?|took|taking) (?:forever|weeks|months|ages|(?:way |far )?too long)\b/g, -2],
  [
    /\bwait(?:ed|ing)? (?:over |almost |nearly )?(?:\d+|two|three|four|five|six|several|many) (?:days|weeks|months)\b/g,
    -2,
  ],
  [/\bfalling apart\b/g, -3],
  [/\bshowing (?:its|their) age\b/g, -2],
  [/\bis a joke\b|\bwhat a joke\b/g, -3],
  [/\bnot (?:their|our|my) problem\b/g, -2],
  [/\bneeds? (?:work|updating|repairs?|fixing|attention)\b/g, -2],
  [/\b(?:are|is) (?:always |often |usually |constantly )?(?:closed|out of order|broken|down)\b/g, -2],
  [/\bhung up\b/g, -2],
];

/** The reviewer says outright that it is mixed. */
const MIXED =
  /\bmixed bag\b|\bmixed feelings\b|\bbalances? (?:it )?out\b|\bpros and cons\b|\bups and downs\b|\blove[- ]hate\b|\bsome (?:good|bad|days|things|times)\b.*\bsome (?:good|bad|days|things|times|do)\b|\b(?:good|great) and (?:the )?bad\b/;

/** Openers that usually flip the praise around them ("Oh great, the gate is broken again"). */
const SARCASM: RegExp[] = [
  /\b(?:oh|just) (?:great|wonderful|fantastic|lovely|perfect)\b/,
  /\blove (?:paying|waiting|how (?:a|the|nobody|no one|they never))\b/,
  /\bwhat a (?:joke|surprise)\b/,
  /\b(?:yeah|sure),? right\b/,
  /\btruly world class\b/,
  /\bfive stars? for (?:the|their) (?:excuses|effort)\b/,
];

const CONTRAST =
  /\b(?:but|however|although|though|tho|except|unfortunately|only (?:thing|gripe|issue|complaint|downside) is)\b/;

function normalise(text: string): string {
  return text.toLowerCase().replace(/[’‘`]/g, "'").replace(/\s+/g, ' ').trim();
}

interface ClauseScore {
  score: number;
  praise: number;
  complaint: number;
  /** How many words and phrases praise: one word of praise is weak evidence ("Classy."). */
  praiseTerms: number;
}

function scoreClause(clause: string): ClauseScore {
  let praise = 0;
  let complaint = 0;
  let praiseTerms = 0;
  let rest = clause;
  for (const [pattern, weight] of PHRASES) {
    rest = rest.replace(pattern, () => {
      if (weight > 0) praiseTerms++;
      if (weight > 0) praise += weight;
      else complaint -= weight;
      return ' , ';
    });
  }
  for (const entry of analyser.analyze(rest, { language: LANGUAGE }).calculation) {
    for (const score of Object.values(entry)) {
      if (score > 0) praiseTerms++;
      if (score > 0) praise += score;
      else complaint -= score;
    }
  }
  return { score: praise - complaint, praise, complaint, praiseTerms };
}

export interface TextPolarity {
  /** Praise minus complaints, the last contrasted clause counted twice; sarcasm turns it negative. */
  score: number;
  /** Sum of the positive evidence (0 when the text has no praise at all). */
  praise: number;
  /** Sum of the negative evidence (0 when the text has no complaint at all). */
  complaint: number;
  /** Number of praising words and phrases. */
  praiseTerms: number;
  /** Score of the clause after the last "but" (0 without one): the verdict the reviewer ended on. */
  last: number;
  /** The text has a "but"-style turn. */
  contrasted: boolean;
  /** The reviewer calls it mixed ("some good, some bad"). */
  mixed: boolean;
  sarcastic: boolean;
}

/** AFINN + domain words, with phrases, negation, sarcasm and "but" clauses. Positive is praise. */
export function textPolarity(text: string): TextPolarity {
  const t = normalise(text);
  const parts = t.split(CONTRAST);
  const clauses = parts.map(scoreClause);
  const last = clauses.length > 1 ? clauses[clauses.length - 1]! : null;
  let praise = clauses.reduce((sum, c) => sum + c.praise, 0);
  let praiseTerms = clauses.reduce((sum, c) => sum + c.praiseTerms, 0);
  let complaint = clauses.reduce((sum, c) => sum + c.complaint, 0);
  let score = praise - complaint + (last ? last.score : 0);
  const sarcastic = SARCASM.some((p) => p.test(t));
  if (sarcastic) {
    // The praise words are the complaint.
    complaint += praise;
    praise = 0;
    praiseTerms = 0;
    score = -Math.abs(score) - 3;
  }
  return {
    score,
    praise,
    complaint,
    praiseTerms,
    last: last?.score ?? 0,
    contrasted: last !== null,
    mixed: MIXED.test(t),
    sarcastic,
  };
}

function textLabel(text: string): TextPolarity & { label: ReviewSentiment } {
  const polarity = textPolarity(text);
  // Long texts accumulate words of both signs: judge them a little more strictly.
  const threshold = text.split(/\s+/).length > 60 ? 3 : 2;
  const label =
    polarity.mixed && Math.abs(polarity.score) < 6
      ? 'neutral'
      : polarity.score >= threshold
        ? 'positive'
        : polarity.score <= -threshold
          ? 'negative'
          : 'neutral';
  return { ...polarity, label };
}

function ratingLabel(rating: number): ReviewSentiment {
  if (rating >= 4) return 'positive';
  if (rating <= 2) return 'negative';
  return 'neutral';
}

/**
 * Rating and text together (the labelling guideline in reviewflow-labelled-reviews.ts, as rules):
 * - only one of them: it decides (text only: an urgent report is never positive, and a neutral-sounding one is a
 *   complaint);
 * - 3 stars: the text decides (praise and complaint together, or a "but", are neutral unless the text leans hard
 *   one way);
 * - 1-2 stars: negative, even with some praise ("great staff, but…", sarcasm); only praise (two words of it at
 *   least), with no complaint and no "but", is neutral (a slip or a protest: a person should look, and it gets neither a thank-you nor an apology);
 * - 4-5 stars: positive, unless the text reports a problem: no praise at all is negative; an urgent issue, mixed
 *   praise and complaint, or a complaint as the last word is neutral. Never positive with an urgent issue, so
 *   never auto-posted as a thank-you.
 */
function combine(
  rating: number | null,
  text: (TextPolarity & { label: ReviewSentiment }) | null,
  urgent: boolean,
): ReviewSentiment {
  if (rating === null && text === null) return 'neutral';
  if (rating === null) {
    if (!urgent) return text!.label;
    return text!.label === 'positive' ? 'neutral' : 'negative';
  }
  const byRating = ratingLabel(rating);
  if (text === null) return byRating;
  if (byRating === 'neutral') {
    // Three stars and a text with both praise and complaint, or a "but": the balance the stars say, unless the
    // text leans hard one way.
    const twoSided = (text.praise > 0 && text.complaint > 0) || text.contrasted;
    if (twoSided && Math.abs(text.score) < 6) return 'neutral';
    return urgent && text.label === 'positive' ? 'neutral' : text.label;
  }
  if (byRating === 'negative') {
    // A "but" under low stars introduces the complaint even when the lexicon cannot read it.
    // Two words of praise at least: a lone "Classy." or "more interested in their phones" is not praise.
    const onlyPraise = text.label === 'positive' && text.complaint === 0 && !text.contrasted && text.praiseTerms >= 2;
    return onlyPraise && !urgent ? 'neutral' : 'negative';
  }
  if (text.label === 'negative' && text.praise === 0) return 'negative';
  // One mildly negative word after a "but" ("but you get what you pay for") is not yet a complaint.
  if (urgent || text.label === 'negative' || text.last <= -2) return 'neutral';
  return 'positive';
}

/**
 * Health, safety and legal issues: staff must see these fast, whatever the stars. Two kinds of evidence:
 * words that are an emergency on their own (mold, sewage, a shooting, a lawyer), and a building system named in
 * the same sentence as a failure ("heat only works in one room", "the entrance door is propped open because the
 * card reader is broken"). Broad on purpose: recall matters more than precision.
 */
const URGENT_WORDS: { reason: string; pattern: RegExp }[] = [
  {
    reason: 'mold',
    pattern:
      /\bmou?ld(?:y|ing)?\b|\bmildew\w*|\bmusty\b|\bwater damage\b|\bblack (?:spots|stuff|gunk|growth|fuzz) (?:on|in|under|behind|around)\b/,
  },
  {
    reason: 'gas or carbon monoxide',
    pattern:
      /\bgas (?:leak|smell|odou?r)|\bsmell(?:s|ed|ing)? (?:of |like )?(?:gas|propane|rotten eggs)\b|\bcarbon monoxide\b|\bco (?:detector|alarm)\b|\bfumes\b/,
  },
  {
    reason: 'fire',
    pattern:
      /\bfires?\b|\b(?:caught fire|on fire|fire (?:alarms?|hazard|started|broke out|department|truck|code|exits?|extinguishers?)|smoke (?:detectors?|alarms?)|(?:kitchen|apartment|unit|building|electrical|grease|dryer) fire|burn(?:ed|t) down)\b/,
  },
  {
    reason: 'flooding or sewage',
    pattern:
      /\bflood\w*|\bsewage\b|\bsewer\w*|\bseptic\b|\bwater (?:pouring|everywhere|gushing|coming up|backing up|backed up)\b|\bbacked up into\b|\boverflow\w* with\b/,
  },
  {
    reason: 'water leak',
    pattern:
      /\b(?:ceiling|walls?)\b[^.!?]{0,60}\bwater\b(?! (?:view|views|pressure|bill|included))|\bwater (?:stains?|spots?) on the (?:ceiling|walls?)\b|\bleak\w* (?:through|from|into|in|behind|inside)\b|\bburst pipes?\b|\bpipes? burst\b|\bsagging\b/,
  },
  {
    reason: 'crime or violence',
    pattern:
      /\bbreak[- ]?ins?\b|\b(?:broken|broke) into\b|\bburglar\w*|\bassault\w*|\brob(?:bed|bery|beries)\b|\bmugg(?:ed|ing)\b|\bshoot\w*|\bshots? fired\b|\bgun\w*|\bstabb?\w*|\bweapons?\b|\bknife\b|\bcar (?:was |got )?stolen\b|\bstole (?:my|our) car\b|\bpolice\b|\bcops?\b|\b911\b|\bharass\w*|\bthreat(?:en\w*|s)?\b|\bstalk\w*|\btrespass\w*|\bsquatters?\b|\bdrug deal\w*|\bhidden cameras?\b|\bpeep\w*|\battack\w*|\bsmash\w*|\bvandali\w*|\b(?:bit|bitten|bites?) (?:my|our|me|him|her|them|a)\b|\b(?:tried|trying|try) to (?:open|get into|break into|force) (?:my|our|the) (?:door|unit|apartment|car)\b|\bunlocked\b|\bsleeping in the (?:stairwell|hallway|lobby|laundry|garage|stairs)\b|\b(?:living|sleeping|staying|squatting|camping) in (?:the |a |an )?(?:vacant|empty|abandoned|unoccupied)\b|\bhomeless\b|\bprowl\w*|\bsuspicious (?:person|people|man|men|guy|activity|characters?)\b|\b(?:trying|tried|checking|pulling|jiggling) (?:on )?(?:car |our |my )?(?:doors|door handles|handles|doorknobs?)\b|\banyone can (?:walk|get|come) in\b/,
  },
  {
    reason: 'danger',
    pattern:
      /\b(?:do(?:es)? ?n[o']t|no longer|never|not) feel(?:ing)? safe\b|\bnot safe\b|\bunsafe\b|\bdanger\w*|\bhazard\w*|\bdeath ?trap\b|\bpitch (?:black|dark)\b|\b(?:will|could|going to|gonna) (?:get hurt|fall|trip|drown|die|get killed|get sick)\b|\btrapped\b|\bstuck in the elevator\b|\bbroken glass\b|\bglass (?:all over|everywhere)\b|\b(?:emergency|fire) (?:exits?|escapes?|doors?)\b[^.!?]{0,60}\b(?:blocked|chained|locked|bolted|broken|shut|not working)\b|\b(?:blocked|chained|locked) (?:\w+ )?(?:emergency|fire) (?:exits?|escapes?|doors?)\b|\bexposed (?:nails|rebar|pipes|metal|screws)\b|\b(?:sharp|rusty|rusted) (?:nails|edges|metal)\b|\bholes? in the (?:floor|stairs|steps|ceiling|balcony|walkway)\b/,
  },
  {
    reason: 'injury or illness',
    pattern:
      /\binjur\w*|\b(?:fell|tripped|slipped) (?:on|down|through|and|in|over)\b|\bhospital\w*|\bambulance\b|\bemergency room\b|\bbroke (?:my|his|her|their) (?:arm|leg|ankle|wrist|hip|foot)\b|\b(?:got|getting|gets|made|making|keeps?) (?:\w+ )?(?:sick|ill|hurt)\b|\basthma\b|\bcough\w*|\bcut (?:my|his|her|their|our) (?:\w+ )?(?:foot|feet|hand|hands|finger|fingers|leg|arm|head|face|knee)\b|\bbleeding\b|\bscald\w*|\bburn(?:ed|t) (?:my|his|her|their|our)\b|\b(?:food|medicine|medication|insulin|breast milk) (?:\w+ )?(?:spoiled|went bad|go bad)\b|\bcan'?t breathe\b|\brash(?:es)?\b|\bbitten\b/,
  },
  {
    reason: 'pests',
    pattern:
      /\bbed ?bugs?\b|\binfest\w*|\b(?:cock)?roach\w*|\brats?\b|\bmice\b|\bmouse droppings\b|\brodents?\b|\bmouse\b|\bdroppings\b|\bscorpions?\b|\btermites?\b|\bfleas\b/,
  },
  {
    reason: 'legal',
    pattern:
      /\blawsuit\b|\bsue\b|\bsuing\b|\battorney\b|\blawyer\b|\blegal action\b|\bdiscriminat\w*|\bracis\w*|\bfair housing\b|\bada\b|\bcode (?:violation|enforcement)\b|\b(?:health|building|fire) (?:department|inspector|code)\b|\bhabitab\w*|\billegal\w*|\blegally\b|\bagainst the law\b|\btenants?'? rights\b|\bsmall claims\b|\bservice (?:animal|dog)s?\b|\bemotional support (?:animal|dog)s?\b|\breasonable accommodations?\b|\bdisabilit\w*|\bdisabled\b|\bwheelchair\b|\bgrab bars?\b|\baccessib\w*|\bretaliat\w*|\bsexual\w*|\bwithout (?:knocking|notice|permission|warning|asking)\b|\b(?:entered|came into|walked into|let (?:himself|herself|themselves) into) (?:my|our) (?:apartment|unit|home|place|bedroom)\b/,
  },
  {
    reason: 'electrical or structural hazard',
    pattern:
      /\bexposed wir\w*|\brot(?:ting|ted)?\b|\bsoft (?:floors?|tiles|spots?|subfloor)\b|\bcracks? in the (?:ceiling|wall|walls|foundation|floor)\b|\b(?:ceiling|roof) (?:fell|came down|caved)\b|\b(?:outlets?|panel|breakers?|wires?|wiring|switch(?:es)?|plugs?) (?:\w+ )?(?:buzz\w*|get(?:s|ting)? hot|hot|smok\w*|melt\w*|scorch\w*|spark\w*)|\bsparks?\b|\bsparking\b|\belectrocut\w*|\bshock(?:ed)? me\b|\bburning (?:smell|odou?r)\b|\bsmell\w* (?:like )?(?:something )?(?:is )?burn\w*|\bceiling (?:collapsed|caved|falling|cracked)\b|\bcollaps\w*|\b(?:railing|balcony|stairs?|steps|handrail) (?:is |are |was |has been )?(?:loose|broken|collapsing|rotting|rotted|unstable|wobbly|cracked)\b/,
  },
];

/** Building systems and fittings whose failure is an emergency... */
const SYSTEMS: { reason: string; pattern: RegExp }[] = [
  {
    reason: 'no heat, water or cooling',
    pattern:
      /\b(?:heat|heater|heating|furnace|boiler|radiators?|ac|a\/c|air conditioning|air conditioner|cooling|hot water|water heater|water|power|electricity|lights)\b/,
  },
  {
    reason: 'broken lock, door or gate',
    pattern:
      /\b(?:locks?|deadbolts?|door|doors|gates?|windows?|entrance|entry|card reader|key ?fob|fob|intercom|buzzer|security system)\b/,
  },
  { reason: 'water leak', pattern: /\b(?:ceiling|roof|pipes?|walls?|drains?|water)\b/ },
  {
    // A dead fridge or stove for days is a habitability issue, not just a repair.
    reason: 'no heat, water or cooling',
    pattern:
      /\b(?:fridge|refrigerator|freezer|stove|oven)\b[^.!?]*\b(?:died|dead|broke|broken|out|not working|stopped)\b[^.!?]*(?:\b(?:days?|weeks?|spoiled)\b)|\b(?:fridge|refrigerator|freezer|stove|oven) (?:died|dead|broke|is broken|stopped working)\b/,
  },
  {
    reason: 'electrical or structural hazard',
    // Not the elevator: "elevator out a lot" is a nuisance; "trapped" covers the emergency.
    pattern: /\b(?:ceiling|floors?|stairs|stairwell|steps|balcony|railing|outlets?|electrical|wiring)\b/,
  },
  { reason: 'danger', pattern: /\b(?:lights?|lighting) (?:in|on|at|along|around) (?:the )?\w+/ },
  {
    reason: 'danger',
    pattern: /\b(?:smoke|smell)\b.{0,40}\b(?:vents?|through the walls|unit below|unit above|next door)\b/,
  },
];

/** ...when the same sentence says it failed. */
const FAILURE =
  /\b(?:no|without|w\/o|out|broken|broke|busted|died|dead|stopped|went out|not (?:working|locking|closing|latching|fixed)|won'?t (?:lock|close|latch|work|turn on)|(?:does|do|did)n'?t (?:lock|close|latch|work)|only works?|propped open|wide open|left open|unlocked|smashed|cracked|collapsed|fell (?:in|down)|(?:has|have)n'?t (?:latched|locked|closed|worked)|missing|dripping|comes? (?:through|in|down)|came (?:through|in|down)|leak\w*|coming (?:through|up|in|down)|pouring|freezing|sweltering|(?:[3-5]\d|1[01]\d) degrees|for (?:\d+|two|three|four|five|several|a few) (?:days|weeks)|every night)\b/;

/** Praise that borrows emergency words: "the pool is on fire", a fire pit, "the gym is killer". */
const FIGURATIVE =
  /\b(?:fire ?pits?|firepit|fireplaces?|on fire (?:with|lately|this (?:summer|year))|(?:deals|specials) (?:are )?on fire|fire (?:deals|specials)|smoke[- ]free|non[- ]smoking|no smoking|fire (?:sale|away)|(?:killer|sick) (?:views?|amenities|gym|pool|location|deals?)|gun range|rats? race)\b/g;

export function detectUrgency(text: string | null): { urgent: boolean; reasons: string[] } {
  if (!text?.trim()) return { urgent: false, reasons: [] };
  const t = normalise(text).replace(FIGURATIVE, ' ');
  const reasons = new Set(URGENT_WORDS.filter(({ pattern }) => pattern.test(t)).map((u) => u.reason));
  for (const sentence of t.split(/[.!?;\n]+/)) {
    if (!FAILURE.test(sentence)) continue;
    for (const { reason, pattern } of SYSTEMS) if (pattern.test(sentence)) reasons.add(reason);
  }
  return { urgent: reasons.size > 0, reasons: [...reasons] };
}

/** Topic keywords, matched on the lower-cased text (stems match word starts: "maint" covers maintenance). */
const TOPIC_KEYWORDS: Record<ReviewTopic, RegExp> = {
  maintenance:
    /\b(?:maint\w*|repair\w*|work orders?|service requests?|fix(?:ed|es|ing)?|broken(?! into)|broke(?! into)|dishwasher|fridge|refrigerator|washer|dryer|ac|a\/c|hvac|heat(?:er|ing)?|hot water|water heater|plumb\w*|leak\w*|elevators?|toilet|sink|appliances?|outlets?|electrical|wiring|drywall|carpets?|blinds?|flood\w*|sewage|needs work|(?:smoke|co) detectors?|wires?|wiring|railings?)\b/,
  cleanliness:
    /\b(?:clean\w*|dirty|filthy|spotless|trash|garbage|(?<!gas )smell\w*(?! (?:of |like )?gas)|stink\w*|immaculate|dust\w*|grime|gross|poop|well[- ]kept|tidy|neat|limpi[oa])\b/,
  noise:
    /\b(?:nois\w*|loud|quiet|thin walls?|walls are (?:a little |really |paper )?thin|parties|party|music|bark\w*|stomp\w*|thump\w*|(?:guy|neighbou?rs?|people|kids|tenants?|someone) (?:upstairs|downstairs|next door|above|below)|drops? weights|bass|sound (?:carries|travels)|soundproof\w*|traffic|trains?|horns?|sirens?)\b/,
  staff:
    /\b(?:staff|team|crew|front desk|leasing (?:agents?|office|staff|team|consultants?)|(?:leasing|property|community|assistant) manager|agents?|concierge|porter|employees?|customer service|service|personal|manager|(?:ladies|guys|people|folks|women|men) (?:in|at) the (?:office|front desk))\b/,
  management:
    /\b(?:manag\w*|office|landlord|corporate|corporation|owners?|ownership|company|discriminat\w*|disabled|disabilit\w*|accessib\w*|reasonable accommodat\w*|lawyer|attorney|lawsuit|fair housing)\b/,
  amenities:
    /\b(?:amenit\w*|pool|gym|fitness|clubhouse|dog (?:park|wash)|pet spa|fire ?pits?|grill\w*|bbq|rooftop|lounge|business center|laundry|cowork\w*|courtyard|spa|sauna|events?|playground)\b/,
  parking:
    /\b(?:parking|park(?:ed)? (?:my|our|in)|cars? (?:was |were |got )?(?:broken into|stolen|towed|keyed)|(?:broke|broken) into (?:\w+ )?cars|garage|tow(?:ed|ing|s)?|tow trucks?|(?:parking|reserved|assigned|guest) spots?|carport|parking lot)\b/,
  pests: /\b(?:pests?|roach\w*|cockroach\w*|mice|mouse|rats?|rodents?|bed ?bugs?|ants|infest\w*|exterminat\w*)\b/,
  safety:
    /\b(?:safe|safety|unsafe|security|secure|gates?|locks?|deadbolt|crime|break[- ]?ins?|broke into|broken into|stolen|cameras?|lighting|dangerous|assault\w*|police|harass\w*|threat\w*|trespass\w*|pitch (?:black|dark)|(?:stairwell|hallway|parking lot) lights?|gas (?:leak|smell)|carbon monoxide|smoke (?:detector|alarm)s?|fire alarm|sparks?|exposed wir\w*|railing|tripped|hospital|hurt|injur\w*)\b/,
  mold: /\b(?:mou?ld\w*|mildew|musty|water damage|black (?:spots|stuff|gunk|growth))\b/,
  pricing:
    /\b(?:rent|rents|price\w*|pricing|pricey|fees?|expensive|overpriced|value|costs?|costly|increase|afford\w*|charged?|billed|(?:months?|weeks?) free|free (?:month|rent)|discount\w*|concessions?|ledger|\$\d[\d,]*|rates? (?:is |are )?(?:going up|went up|increase))\b/,
  move_in: /\b(?:move[- ]?in|moving in|moved in|relocat\w*)\b/,
  move_out: /\b(?:move[- ]?out|moving out|moved out|deposit|after we left)\b/,
  location:
    /\b(?:location|neighbou?rhood|(?:the|this|great|nice|good|safe|quiet|bad|sketchy|decent) area|close to|nearby|walkable|walk to|walking distance|commute|downtown|light rail|views? of the|shops|shopping|restaurants|grocer\w*|highway|freeway|schools?)\b/,
  communication:
    /\b(?:communicat\w*|e-?mail\w*|voicemails?|call(?:s|ed)? back|phone|(?:never|not|don'?t|doesn'?t|didn'?t|won'?t) (?:respond|answer|reply|return|call)\w*|unresponsive|ignor\w*|ghost\w*|portal|notice|updates?|repl(?:y|ies)|returns? (?:my|our|any) calls|transparen\w*|text (?:confirmation|message)s?|call(?:ing|ed)? (?:every ?day|daily|again and again|them|the office)|keeps? (?:us|me) (?:informed|posted|updated)|(?:nobody|no one) (?:tells|told|answers|responds|calls))\b/,
  package_handling: /\b(?:packages?|parcels?|deliver\w*|lockers?|mail\s?room|amazon)\b/,
  pets: /\b(?:pets?|dogs?|cats?|pup|puppy|pet[- ]friendly|dog park|(?:service|support) (?:animal|dog)s?)\b/,
};

/** A named person thanked or blamed is about the staff ("Ask for Devon", "Luis in maintenance"). */
const NAMED_STAFF =
  /\b(?:[Aa]sk for|[Ss]hout ?out to|[Tt]hanks? (?:you )?to|[Kk]udos to) [A-Z][a-z]+|\b[A-Z][a-z]+ (?:in|at|from) (?:the )?(?:office|leasing|front desk|maintenance)\b/;

const URGENT_TOPICS: Record<string, ReviewTopic[]> = {
  mold: ['mold'],
  'gas or carbon monoxide': ['safety'],
  fire: ['safety'],
  'flooding or sewage': ['maintenance'],
  'water leak': ['maintenance'],
  'no heat, water or cooling': ['maintenance'],
  'broken lock, door or gate': ['safety', 'maintenance'],
  'crime or violence': ['safety'],
  danger: ['safety'],
  'electrical or structural hazard': ['safety', 'maintenance'],
  pests: ['pests'],
};

/** Idioms whose words look like topics ("avoid at all costs" is not about price). */
const TOPIC_IDIOMS = /\bat all costs\b|\bon fire\b|\b(?:do ?n[o']t|never) rent\b/g;
/** "Pest fee", "amenity fee": the topic is the fee, not pests or amenities. */
const FEE_NAMES = /\b[a-z]+ (fees?)\b/g;

export function detectTopics(text: string | null): ReviewTopic[] {
  if (!text?.trim()) return [];
  const t = normalise(text).replace(TOPIC_IDIOMS, ' ').replace(FEE_NAMES, ' $1');
  const topics = REVIEW_TOPICS.filter((topic) => TOPIC_KEYWORDS[topic].test(t));
  // An urgent issue names its topic even when no topic keyword does ("two shootings", "trapped in the elevator").
  for (const reason of detectUrgency(text).reasons) topics.push(...(URGENT_TOPICS[reason] ?? []));
  if (!topics.includes('staff') && NAMED_STAFF.test(text)) topics.splice(REVIEW_TOPICS.indexOf('staff'), 0, 'staff');
  return REVIEW_TOPICS.filter((topic) => topics.includes(topic));
}

/**
 * How each topic in the text is spoken of: the summed polarity of the sentences and clauses that mention it
 * (> 0 praised, < 0 complained about, 0 unclear). The drafter thanks people for what they praised and
 * acknowledges what they raised.
 */
export function topicPolarity(text: string | null, topics: readonly ReviewTopic[]): Map<ReviewTopic, number> {
  const result = new Map<ReviewTopic, number>(topics.map((t) => [t, 0]));
  if (!text?.trim()) return result;
  const sarcastic = SARCASM.some((p) => p.test(normalise(text)));
  for (const clause of text.split(/[.!?;\n]+|\b(?:but|however|although|though|except)\b/i)) {
    if (!clause.trim()) continue;
    const found = detectTopics(clause);
    if (!found.length) continue;
    const { score } = scoreClause(normalise(clause));
    const urgent = detectUrgency(clause).urgent;
    const polarity = sarcastic ? -Math.abs(score) - 1 : urgent ? Math.min(score, -1) : score;
    for (const topic of found) if (result.has(topic)) result.set(topic, result.get(topic)! + polarity);
  }
  return result;
}

export function analyseReviewLocally(review: ReviewForAnalysis): ReviewAnalysis {
  const text = review.text?.trim() ? review.text : null;
  const { urgent } = detectUrgency(text);
  const rating =
    typeof review.rating === 'number' && review.rating >= 1 && review.rating <= 5 ? Math.round(review.rating) : null;
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
