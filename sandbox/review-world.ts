/**
 * Synthetic Google reviews for the Business Profile emulator: a pure function of the location id, so every start
 * (and every test) sees the same reviews. A mix of star ratings and tones (glowing, short, mixed, sarcastic,
 * angry, urgent health and safety issues), some with no text, some anonymous, a few already answered by the
 * owner, and some edited by their author later (a second version with a new rating and text).
 */
import { createHash } from 'node:crypto';

export interface SyntheticReviewVersion {
  stars: number;
  comment: string | null;
}

export interface SyntheticReview {
  reviewId: string;
  reviewerName: string;
  isAnonymous: boolean;
  createTime: string;
  first: SyntheticReviewVersion;
  /** The author's later edit, applied `editAfterHours` after creation (the emulator shows it once that time passes). */
  edit: (SyntheticReviewVersion & { editAfterHours: number }) | null;
  ownerReply: string | null;
}

const FIRST_NAMES = ['Maya', 'Jordan', 'Luis', 'Priya', 'Tom', 'Aisha', 'Ben', 'Keiko', 'Sam', 'Olivia', 'Dev', 'Rosa'];
const LAST_INITIALS = ['R.', 'K.', 'M.', 'Chen', 'Okafor', 'W.', 'Silva', 'B.', 'Nguyen', 'T.'];

const TEXTS: Record<number, string[]> = {
  5: [
    'Absolutely love living here. The gym is spotless and the front desk team knows everyone by name.',
    'Best apartment I have rented in ten years. Maintenance fixed my dishwasher the same afternoon!',
    'Quiet, clean, and the pool area is gorgeous in the summer. Renewing for sure.',
    'Move-in was smooth and Carla in the leasing office walked me through everything. Highly recommend.',
    'Great location near the lake, friendly neighbours, packages are always safe in the lockers.',
    'Five stars. Pet friendly for real, the dog park is a huge plus for us and our lab.',
  ],
  4: [
    'Really nice community overall. Parking gets tight after 7pm but management is working on it.',
    'Good value for the area, modern units. Walls are a little thin but neighbours are respectful.',
    'Staff are helpful and responsive. Only wish the laundry room had more dryers.',
    'Solid place to live, the clubhouse is great for working from home.',
  ],
  3: [
    'It is okay. The apartment is fine but communication from the office could be better.',
    'Average. Nice amenities, but the rent increase at renewal was steep.',
    'Mixed feelings: maintenance is quick, but the hallways are not cleaned often.',
    'Decent place, though the elevator is out every other week.',
  ],
  2: [
    'Management rarely answers emails and the trash room smells all summer.',
    'Noise from the unit above every night and the office says there is nothing they can do.',
    'Oh great, another month without a working gate. Love paying for amenities that never work.',
    'Parking is a nightmare and they keep towing residents instead of visitors.',
  ],
  1: [
    'There is black mold in my bathroom ceiling and it has been three weeks since I reported it.',
    'Roaches in the kitchen, again. Pest control came once and never returned. Disgusting.',
    'My front door lock has been broken for days and nobody from maintenance has shown up. I do not feel safe.',
    'No heat in January for four days. Unacceptable, we have a newborn.',
    'Worst experience ever. They kept my whole deposit for "carpet cleaning" on a carpet that was new.',
    'The rude staff at the front desk laughed at me when I asked about my lease. Avoid.',
  ],
};

const OWNER_REPLIES = [
  'Thank you so much for the kind words! We are thrilled you love your home.',
  'We appreciate your feedback and are glad you are enjoying the community.',
];

function rng(seed: string) {
  let counter = 0;
  return () => {
    const digest = createHash('sha256').update(`${seed}:${counter++}`).digest();
    return digest.readUInt32BE(0) / 0x1_0000_0000;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** A realistic star mix for apartment communities: many fives, a long tail of ones. */
function starsFor(random: () => number): number {
  const r = random();
  if (r < 0.45) return 5;
  if (r < 0.62) return 4;
  if (r < 0.72) return 3;
  if (r < 0.82) return 2;
  return 1;
}

export function syntheticReviews(locationKey: string, count: number, now = Date.now()): SyntheticReview[] {
  const random = rng(`reviews/${locationKey}`);
  const reviews: SyntheticReview[] = [];
  for (let i = 0; i < count; i++) {
    const stars = starsFor(random);
    const anonymous = random() < 0.1;
    const noText = random() < 0.15;
    const ageHours = Math.floor(random() * 90 * 24) + 1;
    const edited = random() < 0.12;
    const editedStars = edited ? Math.max(1, Math.min(5, stars + (random() < 0.5 ? -2 : 2))) : stars;
    reviews.push({
      reviewId: `syn-${createHash('sha1').update(`${locationKey}/${i}`).digest('hex').slice(0, 20)}`,
      reviewerName: anonymous ? 'A Google User' : `${pick(random, FIRST_NAMES)} ${pick(random, LAST_INITIALS)}`,
      isAnonymous: anonymous,
      createTime: new Date(now - ageHours * 3_600_000).toISOString(),
      first: { stars, comment: noText ? null : pick(random, TEXTS[stars]!) },
      edit: edited
        ? {
            stars: editedStars,
            comment: pick(random, TEXTS[editedStars]!),
            editAfterHours: Math.max(1, Math.floor(ageHours / 2)),
          }
        : null,
      ownerReply: stars >= 4 && random() < 0.15 ? pick(random, OWNER_REPLIES) : null,
    });
  }
  return reviews;
}
