/**
 * Synthetic Google reviews for the Business Profile emulator: a pure function of the location key, the count and
 * the clock, so every start (and every test) sees the same reviews. Apartment-community reviews in the tones real
 * ones come in (glowing, short, problem-fixed, neutral, mixed, sarcastic, angry, urgent health and safety issues,
 * Google-translated), some rating-only, some anonymous, a few already answered by the owner, and some edited by
 * their author: a second version with a new rating and text, applied at a known time (in the past, or in the
 * next hours so the emulator publishes UPDATED_REVIEW while it runs).
 *
 * Texts are composed from templates and slot pools so the vocabulary varies widely: a sentiment classifier should
 * not be able to sort them by keyword (sarcasm uses praise words, fixed problems name the problem, urgent issues
 * come with five stars too). Each version carries the world's own labels (tone, sentiment, urgent issue) so a
 * classifier can be measured on it; the emulator never shows them.
 */
import { createHash } from 'node:crypto';

export type ReviewTone =
  | 'glowing'
  | 'short_positive'
  | 'resolved'
  | 'translated'
  | 'rating_only'
  | 'neutral'
  | 'mixed'
  | 'short_negative'
  | 'sarcastic'
  | 'angry'
  | 'urgent';

export type UrgentIssue =
  | 'mold'
  | 'leak'
  | 'lock'
  | 'pests'
  | 'no_heat'
  | 'no_hot_water'
  | 'gas'
  | 'electrical'
  | 'fire_safety'
  | 'sewage'
  | 'elevator'
  | 'structural'
  | 'security';

export interface SyntheticReviewVersion {
  stars: number;
  /** Null for a rating-only review. */
  comment: string | null;
  /** Ground truth for measuring a classifier; not part of Google's payload. */
  labels: { tone: ReviewTone; sentiment: 'positive' | 'neutral' | 'negative'; urgentIssue: UrgentIssue | null };
}

export interface SyntheticReview {
  reviewId: string;
  reviewerName: string;
  isAnonymous: boolean;
  createTime: string;
  first: SyntheticReviewVersion;
  /** The author's later edit and when it happens (before `now`: already visible; after: the emulator applies it then). */
  edit: (SyntheticReviewVersion & { editTime: string }) | null;
  ownerReply: { comment: string; updateTime: string } | null;
}

export const DEFAULT_SYNTHETIC_REVIEWS = 24;

// ── Vocabulary ──

const SLOTS: Record<string, readonly string[]> = {
  amenity: [
    'pool',
    'gym',
    'fitness center',
    'rooftop deck',
    'clubhouse',
    'dog park',
    'package room',
    'coworking lounge',
    'grill area',
    'courtyard',
    'sauna',
    'game room',
    'community garden',
    'bike room',
    'hot tub',
  ],
  staff: [
    'Carla',
    'Marcus',
    'Jen',
    'Devon',
    'Ms. Patel',
    'Rico',
    'Tasha',
    'Greg',
    'Alondra',
    'Mr. Boyd',
    'Kim',
    'Luis',
  ],
  role: [
    'leasing agent',
    'maintenance tech',
    'community manager',
    'front desk team',
    'porter',
    'assistant manager',
    'maintenance crew',
    'office staff',
  ],
  room: ['bathroom', 'bedroom', 'kitchen', 'living room', 'laundry closet', 'hallway', 'second bedroom', 'entryway'],
  days: ['three days', 'a week', 'five days', 'almost two weeks', 'ten days', 'since Friday', '48 hours', 'a month'],
  month: ['January', 'March', 'May', 'July', 'August', 'October', 'November', 'December'],
  pet: ['dog', 'cat', 'golden retriever', 'two cats', 'corgi', 'rescue pup', 'beagle'],
  n: ['three', 'four', 'five', 'six', 'seven', 'a dozen'],
};

/** Reviews composed of an opening, one or two details and a closing, so no two read alike. */
const COMPOSED = {
  glowing: {
    open: [
      'Absolutely love living here.',
      'Could not be happier with our move.',
      "Best apartment we've rented in years.",
      'Honestly the nicest community in the area for the price.',
      'Two years in and still impressed.',
      'Such a warm place to come home to.',
      'What a find!',
      'I was nervous about renting sight unseen but it worked out great.',
      'Our family feels right at home here.',
      '',
    ],
    detail: [
      'The {amenity} is spotless and the {role} knows everyone by name.',
      '{staff} made move-in painless: keys, parking pass and a welcome basket ready on day one.',
      'Maintenance fixed the dishwasher the same afternoon I put the request in.',
      'Quiet building, thoughtful neighbours, and the {amenity} is a real perk.',
      '{staff} went above and beyond when my package went missing and tracked it down within the hour.',
      'Bright units, good water pressure, and the {amenity} is never crowded.',
      'Our {pet} gets treats at the office every time we walk by.',
      'Work orders get closed fast and the hallways always smell fresh.',
      'Gorgeous views from the {amenity} and modern finishes throughout.',
      'Everything was exactly as shown on the tour, no hidden fees.',
      'Renewal was painless and the increase was fair.',
      'The {role} always follows up to make sure the job was done right.',
      'The grounds are well lit at night and the gates actually work.',
      'Monthly events in the {amenity} are a nice way to meet the neighbours.',
      'They pick up the phone, which apparently is rare these days.',
    ],
    close: [
      '',
      'Already planning to renew.',
      'Kudos to {staff} and the whole team!',
      'Home sweet home.',
      'Would recommend to anyone.',
      'Five stars, easy.',
      'Thank you {staff}!',
      'Happy to stay another year.',
    ],
  },
  mixed: {
    open: ['', 'Mixed bag.', 'Honest review:', 'Been here about a year.'],
    detail: [
      'I like my unit a lot, but parking is a mess after 7pm and towing is aggressive.',
      'The location is unbeatable, but the walls are paper thin.',
      'Maintenance is quick; the office takes {days} to answer an email.',
      '{staff} in the office is lovely, but the trash chute is always jammed and the smell in summer is rough.',
      'The {amenity} is great when it is open, which is about half the time.',
      'Units are spacious and bright, but fees keep piling up on top of rent.',
      'Packages pile up in the lobby, though the {role} is friendly about helping you dig.',
      'Good neighbours, dated appliances.',
      'The rent jumped at renewal even though nothing was upgraded.',
    ],
    close: [
      '',
      'Overall okay.',
      'Probably renewing, but barely.',
      'Three stars feels right.',
      'Could be great with a little effort.',
    ],
  },
  angry: {
    open: [
      '',
      'Worst management I have ever dealt with.',
      'Where do I even start.',
      'Read the other low reviews, they are true.',
    ],
    detail: [
      "They kept my entire deposit for 'carpet cleaning' on a carpet that was brand new.",
      'The {role} was rude and dismissive when I asked about my lease.',
      "I've been charged late fees twice for rent I paid on time and nobody in the office will fix it.",
      'The unit above stomps until 2am and the office just shrugs at every complaint.',
      "Dirty hallways, overflowing dumpsters, and staff who don't care.",
      'They promised a renovated unit and handed us keys to a place with stained counters and a broken blind.',
      'I moved out a year ago and I am still fighting them over bogus charges.',
      "Three work orders marked 'completed' without anyone ever showing up.",
      'Packages get stolen from the lobby every week and management says it is not their problem.',
      'Rent went up by {n} hundred dollars with two weeks notice.',
    ],
    close: [
      '',
      'Do not sign a lease here.',
      'Stay away.',
      'Absolutely infuriating.',
      'Zero stars if I could.',
      'Corporate needs to step in.',
    ],
  },
} as const;

/** Tones told in one template each; glowing, mixed and angry reviews are composed from parts (see COMPOSED). */
const TEMPLATES: Record<Exclude<ReviewTone, 'rating_only' | 'urgent' | keyof typeof COMPOSED>, readonly string[]> = {
  short_positive: [
    'Great place!',
    'Love it here',
    'Nice apartments, friendly staff.',
    '10/10',
    'Super clean!!',
    'Very happy so far 😊',
    'Good value.',
    'Recommended.',
    'Amazing staff',
    'Best decision we made this year',
    'great',
    'Solid. No complaints.',
    'Wonderful community ❤️',
  ],
  resolved: [
    'Our AC quit during a heat wave and {staff} from maintenance had it running again before dinner. That is service.',
    "Small leak under the sink on move-in day; a tech was here within the hour and it's been perfect since.",
    "We noticed a few ants in {month}. Pest control came the next morning and we haven't seen one since.",
    'The lock on our mailbox jammed and the office replaced it the same day. Small thing, but it shows they care.',
    'Heater made a weird noise the first cold night; they swapped the part in a day. Cozy ever since.',
    'Had a billing mix-up my first month and {staff} sorted it out patiently, even refunded the late fee. Great team.',
    'The garage gate was broken for a day and they had security posted at the entrance until it was fixed. Impressed.',
  ],
  translated: [
    '(Translated by Google) Excellent place, the staff is very friendly and everything is very clean.\n\n(Original)\nExcelente lugar, el personal es muy amable y todo está muy limpio.',
    '(Translated by Google) We love living here, the pool is beautiful.\n\n(Original)\nNos encanta vivir aquí, la alberca es hermosa.',
    'Muy buen lugar para vivir, tranquilo y seguro. {staff} siempre nos ayuda.',
    '(Translated by Google) Very good attention from the office, I recommend it.\n\n(Original)\nMuy buena atención de la oficina, lo recomiendo.',
  ],
  neutral: [
    "It's okay. The apartment itself is fine, but communication from the office is hit or miss.",
    'Average experience. Nice {amenity}, though the rent went up quite a bit at renewal.',
    'Decent place for the price. Nothing special, nothing terrible.',
    'Location is convenient for work. Units are a bit dated but functional.',
    'Fine for a year. Parking can be tight in the evenings and the walls are thin.',
    'Standard apartment complex. Staff are polite; repairs take a few days.',
    'It does the job. I wish the {amenity} stayed open later.',
    'Some good, some not so good. Depends on which {role} you get.',
    'About what you would expect for the area. The {amenity} is a nice extra.',
    'No strong feelings either way. Rent is on time, they leave us alone.',
  ],
  short_negative: [
    'Meh.',
    'Never again.',
    'Not worth the rent.',
    'Overpriced.',
    'Avoid.',
    'Disappointed.',
    'Terrible management',
    'nope',
    'Save your money.',
  ],
  sarcastic: [
    "Wonderful place if you enjoy paying for a {amenity} that has been 'temporarily closed' since {month}.",
    'Great news everyone, the gate is broken again! Truly a consistent experience.',
    'Five-star hotel vibes, if by hotel you mean a hostel where the elevator works on alternate Tuesdays.',
    "Love how the 'quick fix' for my dishwasher turned into a {days} saga. Really keeps life exciting.",
    "Fantastic communication. I've sent {n} emails and received a grand total of zero replies.",
    'Amazing how the rent goes up every year while the hallway carpet stays exactly as stained.',
    'Thanks for towing my car from my own assigned spot. Very welcoming touch.',
    "Really appreciate the surprise 'convenience fee' for paying rent online. So convenient.",
    'Nothing beats coming home to a lobby that smells like last week. Truly luxury living.',
    "Sure, the brochure says 'resort-style'. The resort must be closed for the season, every season.",
  ],
};

const URGENT: Record<UrgentIssue, readonly string[]> = {
  mold: [
    "there's black mold spreading across the {room} ceiling and it's been {days} since I reported it.",
    "fuzzy green spots keep coming back behind the {room} baseboards and my daughter's asthma is getting worse.",
    'a musty smell and dark patches under the {room} window. Pretty sure it is mould and nobody will come look.',
  ],
  leak: [
    'water is dripping through the {room} light fixture from the unit above. Maintenance said they would come {days} ago.',
    'our ceiling is sagging and brown from a leak upstairs, we have buckets everywhere.',
    'the water heater burst, the carpet is soaked and the emergency line goes to voicemail.',
  ],
  lock: [
    "my front door deadbolt doesn't catch anymore and nobody has shown up in {days}. I don't feel safe sleeping here.",
    'the sliding patio door will not latch. Ground floor unit, reported it twice, still nothing.',
  ],
  pests: [
    'roaches in the kitchen again. Pest control came once and never returned.',
    'mouse droppings in the pantry and scratching in the walls all night.',
    "bed bugs. I woke up covered in bites and the office says it's probably from outside.",
  ],
  no_heat: [
    "no heat for {days} in the middle of winter. We have a newborn and we're using the oven to stay warm.",
    "the radiators are stone cold and it's 50 degrees inside the apartment.",
  ],
  no_hot_water: ['no hot water in the whole building for {days}, and still no ETA.'],
  gas: ['a strong gas smell in the stairwell by our floor, and the office just told me to open a window.'],
  electrical: [
    'the outlet in the {room} sparked and now smells like burning plastic. There are exposed wires behind the switch plate too.',
  ],
  fire_safety: [
    'our smoke detector was taken down during an inspection and never put back. Asked {n} times.',
    'the carbon monoxide alarm keeps going off and they told us to take the battery out.',
  ],
  sewage: ["sewage backed up into our bathtub twice this week. The smell is unbearable and it can't be sanitary."],
  elevator: ["I got stuck in the elevator for 40 minutes last night with my kids; it's been glitching for weeks."],
  structural: ['the stair railing by building C is loose and wobbles. Someone is going to fall.'],
  security: ['the garage gate has been stuck open for {days} and two cars got broken into.'],
};

/** How a complaint about an urgent issue opens, by star rating: the issue matters whatever the stars say. */
const URGENT_OPENERS: Record<'low' | 'mid' | 'high', readonly string[]> = {
  low: ['', 'Unacceptable: ', 'Please read this before you sign: ', 'Third time posting because nothing happens: '],
  mid: ['The apartment is okay, but ', 'Staff are nice enough, however ', 'Mixed feelings. '],
  high: [
    'Love the staff and the {amenity}, but ',
    'Great community overall. One big problem though: ',
    'Five stars for the people, but management needs to know ',
  ],
};

const OWNER_THANKS = [
  'Thank you so much for the kind words! We are thrilled you love your home.',
  'We appreciate you taking the time to share this, and we are glad you are enjoying the community.',
  'Thanks for the shout-out! We will pass it along to the team.',
];
const OWNER_APOLOGIES = [
  'We are sorry to hear this. Please reach out to the leasing office so we can make it right.',
  'Thank you for the feedback. Our community manager will contact you to follow up.',
];

const UPDATE_BETTER = [
  'Update: {staff} and the maintenance crew came out the next morning and fixed everything. Bumping my rating, thank you.',
  'Edit: management called me personally and resolved it within a day. Much happier now.',
  'UPDATE: they refunded the charges and apologized. Credit where it is due.',
];
const UPDATE_WORSE = [
  'UPDATE: {days} later and it still is not fixed. Dropping my rating.',
  'Edit: changing my review. Since the new management took over, nothing gets done and nobody answers.',
  'Update: now the rent is going up again and the {amenity} has been closed all month. Not renewing.',
];

const FIRST_NAMES = [
  'Maya',
  'Jordan',
  'Luis',
  'Priya',
  'Tom',
  'Aisha',
  'Ben',
  'Keiko',
  'Sam',
  'Olivia',
  'Dev',
  'Rosa',
  'Malik',
  'Hannah',
  'Chris',
  'Fatima',
  'Noah',
  'Grace',
  'Andre',
  'Mei',
  'Tyler',
  'Zoe',
  'Kwame',
  'Elena',
];
const LAST_NAMES = ['R.', 'K.', 'M.', 'Chen', 'Okafor', 'W.', 'Silva', 'B.', 'Nguyen', 'T.', 'Garcia', 'Johnson', 'S.'];

// ── Deterministic randomness ──

type Random = () => number;

function rng(seed: string): Random {
  let counter = 0;
  return () => {
    const digest = createHash('sha256').update(`${seed}:${counter++}`).digest();
    return digest.readUInt32BE(0) / 0x1_0000_0000;
  };
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function weighted<T>(random: Random, options: readonly (readonly [T, number])[]): T {
  const total = options.reduce((s, [, w]) => s + w, 0);
  let r = random() * total;
  for (const [value, w] of options) {
    r -= w;
    if (r < 0) return value;
  }
  return options[options.length - 1]![0];
}

function fill(template: string, random: Random): string {
  return template.replace(/\{(\w+)\}/g, (_, slot: string) => pick(random, SLOTS[slot] ?? [slot]));
}

const capitalize = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

// ── Composition ──

const TONE_WEIGHTS: readonly (readonly [ReviewTone, number])[] = [
  ['glowing', 22],
  ['short_positive', 8],
  ['resolved', 6],
  ['translated', 4],
  ['rating_only', 12],
  ['neutral', 8],
  ['mixed', 10],
  ['short_negative', 4],
  ['sarcastic', 7],
  ['angry', 9],
  ['urgent', 10],
];

const STARS_BY_TONE: Record<ReviewTone, readonly (readonly [number, number])[]> = {
  glowing: [
    [5, 8],
    [4, 2],
  ],
  short_positive: [
    [5, 7],
    [4, 3],
  ],
  resolved: [
    [5, 6],
    [4, 4],
  ],
  translated: [
    [5, 7],
    [4, 3],
  ],
  rating_only: [
    [5, 45],
    [4, 17],
    [3, 10],
    [2, 10],
    [1, 18],
  ],
  neutral: [
    [3, 7],
    [4, 2],
    [2, 1],
  ],
  mixed: [
    [3, 5],
    [4, 3],
    [2, 2],
  ],
  short_negative: [
    [1, 7],
    [2, 3],
  ],
  sarcastic: [
    [1, 6],
    [2, 4],
  ],
  angry: [
    [1, 7],
    [2, 3],
  ],
  urgent: [
    [1, 55],
    [2, 20],
    [3, 8],
    [4, 7],
    [5, 10],
  ],
};

function sentimentFor(tone: ReviewTone, stars: number): SyntheticReviewVersion['labels']['sentiment'] {
  switch (tone) {
    case 'glowing':
    case 'short_positive':
    case 'resolved':
    case 'translated':
      return 'positive';
    case 'neutral':
      return 'neutral';
    case 'mixed':
      return stars >= 4 ? 'positive' : stars <= 2 ? 'negative' : 'neutral';
    case 'rating_only':
      return stars >= 4 ? 'positive' : stars === 3 ? 'neutral' : 'negative';
    default:
      // Sarcasm, anger and an unresolved health or safety problem all need a human, whatever the stars.
      return 'negative';
  }
}

function version(
  random: Random,
  tone: ReviewTone,
  stars = weighted(random, STARS_BY_TONE[tone]),
): SyntheticReviewVersion {
  let comment: string | null = null;
  let urgentIssue: UrgentIssue | null = null;
  if (tone === 'urgent') {
    urgentIssue = pick(random, Object.keys(URGENT) as UrgentIssue[]);
    const opener = fill(pick(random, URGENT_OPENERS[stars >= 4 ? 'high' : stars === 3 ? 'mid' : 'low']), random);
    const issue = fill(pick(random, URGENT[urgentIssue]), random);
    comment = /(^|[:.] )$/.test(opener) ? `${opener}${capitalize(issue)}` : `${opener}${issue}`;
  } else if (tone === 'glowing' || tone === 'mixed' || tone === 'angry') {
    const parts = COMPOSED[tone];
    const first = pick(random, parts.detail);
    const second = random() < 0.4 ? pick(random, parts.detail) : '';
    comment = [pick(random, parts.open), first, second === first ? '' : second, pick(random, parts.close)]
      .filter(Boolean)
      .map((part) => fill(part, random))
      .join(' ');
  } else if (tone !== 'rating_only') {
    comment = fill(pick(random, TEMPLATES[tone]), random);
  }
  return { stars, comment, labels: { tone, sentiment: sentimentFor(tone, stars), urgentIssue } };
}

/** The author's edit: a complaint that got fixed goes up, a happy review that soured goes down. */
function editOf(random: Random, first: SyntheticReviewVersion): SyntheticReviewVersion {
  if (first.labels.sentiment === 'negative' || first.stars <= 3) {
    const stars = Math.min(5, first.stars + 2 + Math.floor(random() * 2));
    const update = fill(pick(random, UPDATE_BETTER), random);
    return {
      stars,
      comment: first.comment ? `${update}\n\n${first.comment}` : update,
      labels: { tone: 'resolved', sentiment: 'positive', urgentIssue: null },
    };
  }
  if (random() < 0.5) {
    const urgent = version(random, 'urgent', Math.max(1, first.stars - 3));
    return { ...urgent, comment: `Edit: ${urgent.comment}` };
  }
  const stars = Math.max(1, first.stars - 2 - Math.floor(random() * 2));
  return {
    stars,
    comment: fill(pick(random, UPDATE_WORSE), random),
    labels: { tone: 'angry', sentiment: 'negative', urgentIssue: null },
  };
}

const HOUR = 3_600_000;

/**
 * The first `count` reviews of a location (the first n of a longer list are the same reviews), given the clock.
 * The first eleven cover every tone, so even a small location shows the whole mix.
 */
export function syntheticReviews(locationKey: string, count: number, now = Date.now()): SyntheticReview[] {
  const tones = TONE_WEIGHTS.map(([t]) => t);
  const order = rng(`tones/${locationKey}`);
  const coverage = tones
    .map((t) => [t, order()] as const)
    .sort((a, b) => a[1] - b[1])
    .map(([t]) => t);
  const reviews: SyntheticReview[] = [];
  const used = new Set<string>();
  for (let i = 0; i < count; i++) {
    const random = rng(`reviews/${locationKey}/${i}`);
    const tone = i < coverage.length ? coverage[i]! : weighted(random, TONE_WEIGHTS);
    // A location rarely has two identical texts: re-draw a few times before accepting a repeat.
    let first = version(random, tone);
    for (let retry = 0; retry < 6 && first.comment && used.has(first.comment); retry++) first = version(random, tone);
    if (first.comment) used.add(first.comment);
    const anonymous = random() < 0.1;
    // Whole minutes over the last 90 days, so times look like real ones rather than exact hours.
    const createMs = now - (Math.floor(random() * 90 * 24 * 60) + 30) * 60_000;
    let edit: SyntheticReview['edit'] = null;
    if (first.comment && random() < 0.15) {
      // Roughly half the edits already happened; the rest happen in the next three days.
      const editMs =
        random() < 0.55
          ? createMs + Math.floor(random() * (now - createMs) * 0.9) + 60_000
          : now + (1 + Math.floor(random() * 72)) * HOUR;
      edit = { ...editOf(random, first), editTime: new Date(editMs).toISOString() };
    }
    let ownerReply: SyntheticReview['ownerReply'] = null;
    if (random() < (first.stars >= 4 ? 0.15 : 0.08)) {
      const replyMs = createMs + (2 + Math.floor(random() * 46)) * HOUR;
      if (replyMs < now && (!edit || replyMs < Date.parse(edit.editTime))) {
        const comment = pick(random, first.stars >= 4 ? OWNER_THANKS : OWNER_APOLOGIES);
        ownerReply = { comment, updateTime: new Date(replyMs).toISOString() };
      }
    }
    reviews.push({
      reviewId: `syn-${createHash('sha1').update(`${locationKey}/${i}`).digest('hex').slice(0, 20)}`,
      reviewerName: anonymous ? 'A Google User' : `${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)}`,
      isAnonymous: anonymous,
      createTime: new Date(createMs).toISOString(),
      first,
      edit,
      ownerReply,
    });
  }
  return reviews;
}
