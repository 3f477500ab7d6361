/**
 * Labelled reviews for measuring the offline classifier (activities/reviewflow-analysis.ts), written by hand in
 * the style of Google, Yelp and Apartments.com reviews of apartment communities: short and long, typos, mixed
 * feelings, sarcasm, ratings that disagree with the text, rating-only and text-only reviews.
 *
 * Two halves: DEV, which the lexicon was tuned against, and HELD_OUT, which was written separately and only ever
 * measured (the test reports both; its bars apply to HELD_OUT).
 */
import type { ReviewSentiment } from '../db/schema/reviewflow';

export interface LabelledReview {
  rating: number | null;
  text: string | null;
  sentiment: ReviewSentiment;
  urgent: boolean;
}

type Row = [rating: number | null, sentiment: 'p' | 'u' | 'n', urgent: 0 | 1, text: string | null];

const SENTIMENT = { p: 'positive', u: 'neutral', n: 'negative' } as const;
const rows = (list: Row[]): LabelledReview[] =>
  list.map(([rating, s, urgent, text]) => ({ rating, text, sentiment: SENTIMENT[s], urgent: urgent === 1 }));

export const DEV: LabelledReview[] = rows([
  [5, 'p', 0, 'Love it here! Staff is super friendly and the gym is always clean.'],
  [5, 'p', 0, 'Best decision we made moving here. Maintenance is fast.'],
  [5, 'p', 0, null],
  [4, 'p', 0, null],
  [4, 'p', 0, 'Nice place, good location. Parking can be tight at night.'],
  [5, 'p', 0, 'Highly recommend. Move in was smooth and the leasing team was so helpful.'],
  [4, 'p', 0, 'Great amenities and quiet neighbors. A little pricey but worth it.'],
  [3, 'u', 0, 'It is fine. Nothing special, nothing terrible.'],
  [3, 'u', 0, null],
  [3, 'u', 0, 'Decent apartment but the office takes forever to answer emails.'],
  [3, 'n', 0, 'Rent went up 12% at renewal and nothing has improved. Disappointed.'],
  [2, 'n', 0, 'Management does not respond to work orders. Dishwasher broken for a month.'],
  [1, 'n', 1, 'Roaches everywhere. Pest control came once and never returned.'],
  [1, 'n', 1, 'Black mold in the bathroom and they just painted over it.'],
  [1, 'n', 0, 'Worst apartment complex in town. Avoid at all costs.'],
  [2, 'n', 0, 'Oh great, the gate is broken again. Love paying for amenities that never work.'],
  [1, 'n', 0, 'They kept my entire deposit for normal wear and tear. Scam.'],
  [5, 'u', 1, 'Love the staff and the pool, but there is mold growing under my sink that needs attention.'],
  [5, 'p', 0, 'The fire pit area is amazing on summer nights!'],
  [4, 'u', 0, 'Good place overall but the trash room smells terrible and nobody cleans it.'],
  [1, 'n', 1, 'No heat for three days in January. We have kids. Unacceptable.'],
  [2, 'n', 1, 'My car was broken into in the garage and the gate has been broken for weeks.'],
  [1, 'n', 0, 'Rude leasing agent, hung up on me twice.'],
  [5, 'p', 0, 'Spotless hallways, responsive maintenance, and they love our dog. 10/10.'],
  [4, 'p', 0, 'Very happy here. Package lockers make deliveries easy.'],
  [null, 'p', 0, 'Wonderful community, the events are fun and the staff are kind.'],
  [null, 'n', 0, 'Terrible management. Nobody answers the phone and work orders sit for weeks.'],
  [null, 'u', 0, 'Average place. The units are okay, the parking is limited.'],
  [null, 'n', 1, 'There is a gas smell in the stairwell and nobody has come to check it.'],
  [2, 'n', 0, 'Thin walls, loud neighbors, and the office says it is not their problem.'],
  [1, 'n', 1, 'Ceiling leak flooded my bedroom and maintenance said they would come tomorrow. That was a week ago.'],
  [3, 'u', 0, 'Nice gym. Elevator out a lot. Staff is ok.'],
  [5, 'p', 0, 'Cannot say enough good things about Maria in the office. She went above and beyond.'],
  [4, 'p', 0, 'Cozy apartment, convenient to downtown. Would recommend.'],
  [1, 'n', 0, 'Stay away. Hidden fees everywhere.'],
  [2, 'n', 0, 'Parking is a nightmare and they tow residents instead of visitors.'],
  [5, 'p', 0, 'Feels like home. Thank you to the maintenance crew!'],
  [1, 'n', 1, 'Bed bugs in our unit two weeks after move in. Management denies it.'],
  [4, 'u', 0, 'The apartment is great but the noise from the unit above is constant.'],
  [3, 'p', 0, 'Three stars only because of the price, otherwise everything is great and staff are lovely.'],
  [1, 'n', 1, 'Front door lock has been broken for days and I do not feel safe.'],
  [5, 'p', 0, 'amazing place!! staff r the best'],
  [2, 'n', 0, 'nice looking but everything is cheap and breaks. maintenance never fixed my ac properly'],
  [4, 'p', 0, 'Solid place. No complaints so far.'],
  [1, 'n', 1, 'I tripped on the broken stairs outside building C and ended up in the hospital.'],
  [2, 'n', 1, 'They are discriminating against families with kids. I am contacting a fair housing attorney.'],
  [5, 'p', 0, 'Renewing for a third year. That says it all.'],
  [3, 'u', 0, 'Mixed bag. Great location, mediocre management.'],
]);

export const HELD_OUT: LabelledReview[] = rows([
  [5, 'p', 0, 'Such a great community. Clean grounds and the team remembers everyone by name.'],
  [5, 'p', 0, 'The leasing office made our relocation stress free. Thank you!'],
  [5, 'p', 0, null],
  [4, 'p', 0, 'Nice units with updated kitchens. Laundry room could use more machines.'],
  [4, 'p', 0, 'Pleasant place to live, friendly neighbors, good dog park.'],
  [5, 'p', 0, 'Maintenance came within an hour when our toilet overflowed. Impressive.'],
  [5, 'p', 0, 'Beautiful pool, great views of the lake, and rent is fair for the area.'],
  [4, 'p', 0, null],
  [5, 'p', 0, 'Quiet, safe and well kept. Couldn’t ask for more.'],
  [4, 'p', 0, 'Great experience so far. Only wish there were more guest parking spots.'],
  [5, 'p', 0, 'Jasmine at the front desk is a gem. Always helpful with packages.'],
  [null, 'p', 0, 'We have loved every minute of living here. Excellent service.'],
  [5, 'p', 0, 'Moved in last month and everything was ready and clean. Happy!'],
  [4, 'p', 0, 'good value, friendly staff, would rent again'],
  [3, 'u', 0, 'Okay place. Some things work, some do not.'],
  [3, 'u', 0, null],
  [3, 'u', 0, 'The apartment is nice but communication from management is hit or miss.'],
  [3, 'u', 0, 'Gym is decent, pool is closed a lot. Average experience overall.'],
  [null, 'u', 0, 'The location is convenient. The units are standard for the price.'],
  [4, 'u', 0, 'I like my unit, but the constant construction noise since spring has been exhausting.'],
  [3, 'n', 0, 'Not impressed. Work orders take weeks and the office blames corporate.'],
  [2, 'n', 0, 'Overpriced for what you get. The carpets were dirty at move in.'],
  [2, 'n', 0, 'The office ignores emails and the portal never works.'],
  [1, 'n', 0, 'Absolute worst experience. They lost my rent check and charged me late fees.'],
  [1, 'n', 0, 'Do not move here. Management is rude and unprofessional.'],
  [2, 'n', 0, 'Wow, another surprise fee this month. What a surprise.'],
  [1, 'n', 0, null],
  [2, 'n', 0, null],
  [1, 'n', 0, 'Packages get stolen from the lobby constantly and the office shrugs.'],
  [2, 'n', 0, 'Dog poop everywhere, nobody enforces anything. Gross.'],
  [1, 'n', 0, 'They charged us $900 for cleaning after we left the place spotless. Thieves.'],
  [null, 'n', 0, 'Horrible. Would not recommend to anyone.'],
  [2, 'n', 0, 'Great amenities on paper but half of them are always closed.'],
  [1, 'n', 1, 'There are mice in the kitchen cabinets and droppings on the counters.'],
  [1, 'n', 1, 'Water heater broke and we have had no hot water for five days.'],
  [2, 'n', 1, 'Someone broke into three cars last week and the cameras do not even work.'],
  [1, 'n', 1, 'Sewage backed up into our bathtub. The smell is unbearable and nobody came.'],
  [5, 'u', 1, 'Staff are lovely, but I found mold behind the washer and it is making my son cough.'],
  [4, 'u', 1, 'Nice community, but the smoke detector in my unit has been chirping and broken for weeks.'],
  [1, 'n', 1, 'Exposed wires in the hallway ceiling for a month. Someone is going to get hurt.'],
  [2, 'n', 1, 'Our AC died during a heat wave and no one came for four days, my elderly mother got sick.'],
  [1, 'n', 1, 'I will be contacting my lawyer about the way this was handled.'],
  [null, 'n', 1, 'Found bed bugs in the mattress area after the neighbors moved out. Infestation is spreading.'],
  [3, 'n', 1, 'The balcony railing is loose and dangerous, reported twice with no response.'],
  [1, 'n', 1, 'The security gate has not locked in a month and there was a break-in on our floor.'],
  [5, 'p', 0, 'Best management company I have dealt with. Responsive and fair.'],
  [4, 'p', 0, 'Love the coworking lounge, super convenient for remote work.'],
  [1, 'n', 0, 'Terrible customer service. They do not care about residents at all.'],
  [2, 'u', 0, 'The staff is nice but the building is old and needs work.'],
  [5, 'p', 0, 'Top notch. Clean, modern, friendly.'],
  [3, 'u', 0, 'Its alright i guess, rent keeps going up tho'],
  [1, 'n', 0, 'Loud parties every weekend and security does nothing.'],
  [4, 'p', 0, 'Really enjoy living here, maintenance is prompt and polite.'],
  [2, 'n', 0, 'Towed from my own assigned spot. Twice. Thanks for nothing.'],
  [5, 'p', 0, 'The renovated units are gorgeous and the staff made move-in easy.'],
  [1, 'n', 1, 'Carbon monoxide detector went off twice and maintenance said to just open a window.'],
  [3, 'u', 0, 'Some good, some bad. Maintenance is great, the front office not so much.'],
  [null, 'p', 0, 'Friendly, clean and well managed. Very happy tenant.'],
  [4, 'p', 0, 'Nice pool and quiet at night.'],
  [2, 'n', 0, 'Promised a renovated unit and got stained carpet and a broken blind.'],
]);
