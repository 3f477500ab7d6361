/**
 * Reply drafts in the property's voice: the LLM when configured, composed templates offline.
 *
 * Offline (generator 'template'): an opening, a body and a closing are picked from pools per sentiment and tone,
 * personalised with the reviewer's first name, what they praised or raised (their topics), the persona's
 * contact line and signature. The pick is a hash of the request's seed, and skips any combination whose key or
 * text equals the property's most recent reply, so no two consecutive replies are identical.
 * What the offline drafter does with a regenerate instruction: "shorter" drops the body, "formal" /
 * "professional" and "warmer" / "friendlier" switch the tone, "apologise" adds an apology, "mention X" adds a
 * sentence about X, "don't mention <topic>" drops that topic; anything else only changes the wording (it
 * cannot follow free-form instructions; the LLM can).
 */
import { createHash } from 'node:crypto';
import type { ReviewTopic } from '../db/schema/reviewflow';
import type { ChatModel } from '../integrations/llm';
import { MAX_REPLY_CHARS, type ReviewAnalysis } from '../workflows/reviewflow';

export type PersonaTone = 'warm' | 'professional' | 'upbeat';

export interface ReviewPersona {
  propertyName: string;
  signature: string;
  tone: PersonaTone;
  contactLine: string | null;
}

export interface DraftRequest {
  review: { reviewerName: string | null; rating: number | null; text: string | null };
  analysis: ReviewAnalysis;
  persona: ReviewPersona;
  /** The property's recent replies and drafts, newest first. */
  recent: { text: string; templateKey: string | null }[];
  instruction?: string | null;
  /** Same seed, same draft; a different seed varies it (workflow id + draft seq). */
  seed: string;
}

export interface DraftedReply {
  text: string;
  generator: string;
  templateKey: string | null;
}

export interface ReplyDrafter {
  draft(request: DraftRequest): Promise<DraftedReply>;
}

const NOT_A_NAME = /^(?:a google user|anonymous|google user|guest|resident|tenant|user|n\/?a|none)$/i;

/** "John D." → "John"; "A Google User", "Anonymous", emails, initials and empty → null. */
export function firstNameOf(displayName: string | null): string | null {
  const name = displayName?.trim();
  if (!name || NOT_A_NAME.test(name) || name.includes('@')) return null;
  const first = name.split(/\s+/)[0]!.replace(/[^\p{L}'-]/gu, '');
  if (first.length < 2) return null;
  return first[0]!.toUpperCase() + first.slice(1);
}

/** How a topic reads in a thank-you and in an apology. */
const TOPIC_PHRASES: Record<ReviewTopic, { praise: string; issue: string }> = {
  maintenance: { praise: 'our maintenance team', issue: 'the maintenance delays' },
  cleanliness: { praise: 'how well the community is kept', issue: 'the cleanliness issues' },
  noise: { praise: 'the quiet', issue: 'the noise' },
  staff: { praise: 'our team', issue: 'your experience with our team' },
  management: { praise: 'the office', issue: 'how our office handled this' },
  amenities: { praise: 'the amenities', issue: 'the amenities not being available' },
  parking: { praise: 'the parking', issue: 'the parking situation' },
  pests: { praise: 'a pest-free home', issue: 'the pest problem' },
  safety: { praise: 'feeling safe at home', issue: 'your safety concerns' },
  mold: { praise: 'a healthy home', issue: 'the mold you found' },
  pricing: { praise: 'the value', issue: 'the pricing concerns' },
  move_in: { praise: 'your move-in', issue: 'your move-in experience' },
  move_out: { praise: 'your move-out', issue: 'your move-out experience' },
  location: { praise: 'the location', issue: 'the neighbourhood concerns' },
  communication: { praise: 'hearing from us', issue: 'the slow communication' },
  package_handling: { praise: 'the package lockers', issue: 'the package problems' },
  pets: { praise: 'a pet-friendly home', issue: 'the pet concerns' },
};

type Pool = Record<PersonaTone, string[]>;

// {name} is "Maya" or dropped with its comma; {property}, {praised}, {issue} and {contact} are filled in.
const OPENINGS: Record<ReviewAnalysis['sentiment'], Pool> = {
  positive: {
    warm: [
      'Thank you so much, {name}!',
      '{name}, this made our day!',
      'What a lovely review, {name}. Thank you!',
      'We are so grateful, {name}!',
      'Thank you for the kind words, {name}!',
      'Hi {name}, thank you for sharing this!',
    ],
    professional: [
      'Thank you for your review, {name}.',
      'We appreciate your feedback, {name}.',
      'Thank you for taking the time to share this, {name}.',
      'We are grateful for your review, {name}.',
      '{name}, thank you for your kind feedback.',
      'Thank you, {name}, for the positive review.',
    ],
    upbeat: [
      'Woohoo, thank you {name}!',
      '{name}, you just made the whole team smile!',
      'Thanks a million, {name}!',
      'Yay, thank you {name}!',
      'High fives all around, {name}!',
      '{name}, thank you for the shout-out!',
    ],
  },
  neutral: {
    warm: [
      'Thank you for your honest review, {name}.',
      'Hi {name}, we appreciate you sharing this.',
      'Thank you for the feedback, {name}.',
      '{name}, thank you for telling us how things are going.',
      'We are glad you took the time to write, {name}.',
      'Thanks for the thoughtful review, {name}.',
    ],
    professional: [
      'Thank you for your feedback, {name}.',
      'We appreciate your review, {name}.',
      '{name}, thank you for sharing your experience.',
      'Thank you for taking the time to review {property}, {name}.',
      'We value your feedback, {name}.',
      'Thank you for the balanced review, {name}.',
    ],
    upbeat: [
      'Thanks for the review, {name}!',
      '{name}, thanks for keeping it real!',
      'Appreciate you, {name}!',
      'Thanks so much for sharing, {name}!',
      '{name}, thank you for the feedback!',
      'Hey {name}, thanks for writing!',
    ],
  },
  negative: {
    warm: [
      '{name}, we are truly sorry to read this.',
      'Hi {name}, I am so sorry about your experience.',
      '{name}, thank you for telling us, and we are sorry.',
      'We are sorry, {name}. This is not the home we want for you.',
      '{name}, I am sorry we let you down.',
      'Thank you for being honest with us, {name}, and I apologise.',
    ],
    professional: [
      '{name}, we apologise for your experience.',
      'Thank you for bringing this to our attention, {name}.',
      'We are sorry to hear about this, {name}.',
      '{name}, we regret that your experience has fallen short.',
      'We appreciate your feedback, {name}, and we apologise.',
      '{name}, please accept our apologies.',
    ],
    upbeat: [
      '{name}, we are really sorry about this.',
      'Oh no, {name}, we are sorry to hear this.',
      '{name}, this is not what we want for you, and we are sorry.',
      'We hear you, {name}, and we are sorry.',
      '{name}, thanks for flagging this, and sorry.',
      'Sorry, {name}, that is not okay.',
    ],
  },
};

const BODIES: Record<ReviewAnalysis['sentiment'], Pool> = {
  positive: {
    warm: [
      'We are so happy you enjoy {praised} at {property}.',
      'It means a lot that {praised} stands out for you.',
      'Hearing that you love {praised} is the best part of our week.',
      'We will share your kind words about {praised} with everyone.',
      'Making {property} feel like home is what we love to do.',
      'We are thrilled {praised} has made a difference for you.',
    ],
    professional: [
      'We are pleased that {praised} meets your expectations at {property}.',
      'Your comments about {praised} have been shared with the team.',
      'We work hard on {praised}, and it is good to know it shows.',
      'It is great to hear that {praised} is working well for you.',
      'We are glad you are enjoying {praised}.',
      'Feedback like yours about {praised} helps us keep our standards high.',
    ],
    upbeat: [
      'So glad you are loving {praised}!',
      'We will tell the whole crew you love {praised}!',
      '{praised} for the win!',
      'Nothing beats hearing you are enjoying {praised}!',
      'We are pumped that {praised} is a hit with you!',
      'You love {praised}, and we love having you here!',
    ],
  },
  neutral: {
    warm: [
      'We are glad parts of life at {property} are working for you, and we hear you about {issue}.',
      'Thank you for pointing out {issue}; we are looking at how to do better.',
      'We want every part of your home to feel right, including {issue}.',
      'Your note about {issue} has gone to the right people.',
      'We are working on {issue}, and your feedback helps.',
      'We appreciate the good words and will keep improving {issue}.',
    ],
    professional: [
      'We have shared your comments about {issue} with the team.',
      'Your feedback on {issue} is noted, and we are reviewing it.',
      'We are reviewing {issue} to see what we can improve.',
      'We take your comments about {issue} seriously.',
      'Improving {issue} is on our list, and your review helps us prioritise it.',
      'We appreciate the detail about {issue}.',
    ],
    upbeat: [
      'We are on it with {issue}!',
      'Noted on {issue}, and we are working on it!',
      'Good call on {issue}; we want to get it right.',
      'We are glad you are here, and we are tackling {issue}.',
      '{issue} is on our radar now!',
      'Thanks for the heads-up about {issue}!',
    ],
  },
  negative: {
    warm: [
      'Nobody should have to deal with {issue}, and we want to fix it.',
      'I am sorry about {issue}. You deserve better from us.',
      'We understand how frustrating {issue} must be.',
      'Hearing about {issue} is hard, and we want to make it right.',
      'We are looking into {issue} right away.',
      'You should not have to chase us about {issue}.',
    ],
    professional: [
      'We are looking into {issue} as a priority.',
      'We have escalated {issue} to our management team.',
      '{issue} does not reflect the standard we hold ourselves to.',
      'We understand your frustration with {issue}.',
      'We would like to resolve {issue} as quickly as possible.',
      'We are reviewing {issue} and what led to it.',
    ],
    upbeat: [
      'We want to fix {issue}, fast.',
      'That is not the experience we want for you, and {issue} needs fixing.',
      'We are jumping on {issue} now.',
      '{issue} is on us, and we want to sort it out.',
      'We hear you on {issue}, and we are on it.',
      'Let us make {issue} right.',
    ],
  },
};

const CLOSINGS: Record<ReviewAnalysis['sentiment'], Pool> = {
  positive: {
    warm: [
      'We are so glad you are part of our community.',
      'See you around the community!',
      'Thank you for being such a wonderful neighbour.',
      'We are lucky to have you here.',
      'Enjoy your home!',
      'Here is to many more happy days at {property}.',
    ],
    professional: [
      'We look forward to continuing to serve you.',
      'Thank you for choosing {property}.',
      'Please let us know if there is anything we can do for you.',
      'We appreciate you being a resident.',
      'Thank you again for your feedback.',
      'We are here whenever you need us.',
    ],
    upbeat: [
      'See you at the next resident event!',
      'Cheers to you!',
      'You rock!',
      'Thanks for being awesome!',
      'Stay awesome, neighbour!',
      'Catch you around the property!',
    ],
  },
  neutral: {
    warm: [
      '{contact}',
      'Please stop by the office any time; we would love to hear more. {contact}',
      'We hope to earn five stars from you. {contact}',
      'Thank you for being part of {property}. {contact}',
      'We are always here to help. {contact}',
      'We would love to talk it through. {contact}',
    ],
    professional: [
      '{contact}',
      'We welcome further feedback. {contact}',
      'Thank you again for your review. {contact}',
      'We aim to exceed your expectations. {contact}',
      'Please reach out with any other concerns. {contact}',
      'We appreciate your patience. {contact}',
    ],
    upbeat: [
      '{contact}',
      'Come say hi at the office! {contact}',
      'We want to earn that fifth star! {contact}',
      'Thanks for being here! {contact}',
      'Holler any time! {contact}',
      'We are always around! {contact}',
    ],
  },
  negative: {
    warm: [
      '{contact}',
      'We would like to make this right. {contact}',
      'Please give us the chance to fix this. {contact}',
      'We care about your home and want to help. {contact}',
      'Your comfort matters to us. {contact}',
      'We are here for you. {contact}',
    ],
    professional: [
      '{contact}',
      'We would welcome the opportunity to discuss this directly. {contact}',
      'We would like to resolve this with you personally. {contact}',
      'Please contact us so we can follow up. {contact}',
      'We appreciate the chance to address this. {contact}',
      'We will follow up promptly. {contact}',
    ],
    upbeat: [
      '{contact}',
      'Let us make it right. {contact}',
      'We want to fix this with you. {contact}',
      'Reach out and we will get on it. {contact}',
      'We have got your back. {contact}',
      'Talk to us, we will sort it. {contact}',
    ],
  },
};

function hashIndex(seed: string, salt: string, n: number): number {
  return createHash('sha256').update(`${seed}/${salt}`).digest().readUInt32BE(0) % n;
}

function joinPhrases(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

interface Adjustments {
  tone: PersonaTone;
  short: boolean;
  apologise: boolean;
  mention: string | null;
  dropTopics: Set<string>;
}

function readInstruction(instruction: string | null | undefined, tone: PersonaTone): Adjustments {
  const i = (instruction ?? '').toLowerCase();
  const mention = /\bmention(?:ing)?\s+(.+?)(?:[.!]|$)/i.exec(instruction ?? '');
  const drop = /\b(?:don'?t|do not|never) mention\s+(?:the\s+)?([a-z_ -]+)/i.exec(instruction ?? '');
  return {
    tone: /\b(?:formal|professional)\b/.test(i)
      ? 'professional'
      : /\b(?:warm|warmer|friendl(?:y|ier)|kind(?:er)?)\b/.test(i)
        ? 'warm'
        : /\b(?:upbeat|fun|casual|enthusiastic)\b/.test(i)
          ? 'upbeat'
          : tone,
    short: /\b(?:short(?:er)?|brief(?:er)?|concise)\b/.test(i),
    apologise: /\bapolog/.test(i),
    mention: drop ? null : (mention?.[1]?.trim() ?? null),
    dropTopics: new Set(drop ? [drop[1]!.trim().replace(/\s+/g, '_')] : []),
  };
}

function fill(template: string, values: Record<string, string>, name: string | null): string {
  let out = template;
  if (!name) {
    // Drop the name and the punctuation that held it: "Thank you, {name}." → "Thank you."
    out = out
      .replace(/,\s*\{name\}/g, '')
      .replace(/\{name\},\s*/g, '')
      .replace(/\s*\{name\}/g, '');
    out = out.charAt(0).toUpperCase() + out.slice(1);
  }
  for (const [k, v] of Object.entries({ ...values, name: name ?? '' })) out = out.replaceAll(`{${k}}`, v);
  return out
    .replace(/\s+([.!,])/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function draftReplyLocally(request: DraftRequest): DraftedReply {
  const { analysis, persona, review } = request;
  const adjust = readInstruction(request.instruction, persona.tone);
  const sentiment = analysis.sentiment;
  const name = firstNameOf(review.reviewerName);
  const topics = analysis.topics.filter((t) => !adjust.dropTopics.has(t)).slice(0, 2);
  const praised = topics.length
    ? joinPhrases(topics.map((t) => TOPIC_PHRASES[t].praise))
    : `life at ${persona.propertyName}`;
  const issue = topics.length ? joinPhrases(topics.map((t) => TOPIC_PHRASES[t].issue)) : 'what you described';
  const contact =
    persona.contactLine ?? `Please contact the ${persona.propertyName} leasing office so we can talk directly.`;
  const values = { property: persona.propertyName, praised, issue, contact };
  const openings = OPENINGS[sentiment][adjust.tone];
  const bodies = BODIES[sentiment][adjust.tone];
  const closings = CLOSINGS[sentiment][adjust.tone];
  const previous = request.recent[0];
  const total = openings.length * bodies.length * closings.length;
  const start = hashIndex(request.seed, 'combo', total);

  for (let step = 0; step < total; step++) {
    const n = (start + step * 7919) % total; // a large prime stride walks every combination
    const o = n % openings.length;
    const b = Math.floor(n / openings.length) % bodies.length;
    const c = Math.floor(n / (openings.length * bodies.length)) % closings.length;
    const templateKey = `${sentiment}/${adjust.tone}/${o}.${adjust.short ? '-' : b}.${c}`;
    const parts = [fill(openings[o]!, values, name)];
    if (adjust.apologise && sentiment !== 'negative') parts.push('We are sorry for any frustration this has caused.');
    if (!adjust.short) parts.push(capitalise(fill(bodies[b]!, values, name)));
    if (adjust.mention) parts.push(`We also wanted to mention ${adjust.mention.replace(/[.!]+$/, '')}.`);
    parts.push(fill(closings[c]!, values, name));
    const body = parts.filter(Boolean).join(' ');
    const text = `${body}\n\n${persona.signature}`.slice(0, MAX_REPLY_CHARS);
    if (previous && (previous.templateKey === templateKey || previous.text.trim() === text.trim())) continue;
    return { text, generator: 'template', templateKey };
  }
  // Every combination equals the previous reply (impossible with the pools above): vary the signature line.
  const text = `${fill(openings[0]!, values, name)}\n\n— ${persona.signature}`;
  return { text, generator: 'template', templateKey: null };
}

const DRAFT_SYSTEM_PROMPT = `You write public replies to online reviews on behalf of an apartment community.
Rules: reply in the community's voice and tone; use the reviewer's first name when given; refer to what they
mentioned; thank positive reviewers; for complaints, acknowledge the specific issue, apologise, and invite them to
contact the office (use the contact line given). Never admit legal liability, never promise compensation, never
mention private details (unit numbers, lease terms, payments). Plain text, at most 120 words, no hashtags, no
placeholders, no quotes around the reply. End with the signature given.`;

function cleanModelText(raw: string): string {
  return raw
    .trim()
    .replace(/^["“”']+|["“”']+$/g, '')
    .trim()
    .slice(0, MAX_REPLY_CHARS);
}

export function createLlmReplyDrafter(chatModel: ChatModel): ReplyDrafter {
  return {
    async draft(request) {
      const { review, analysis, persona } = request;
      const previous = request.recent[0]?.text.trim();
      const prompt = [
        `Community: ${persona.propertyName}. Tone: ${persona.tone}. Signature: ${persona.signature}.`,
        `Contact line: ${persona.contactLine ?? `the ${persona.propertyName} leasing office`}.`,
        `Reviewer: ${firstNameOf(review.reviewerName) ?? '(no name; do not invent one)'}. Rating: ${review.rating ?? 'none'} of 5.`,
        `Analysis: ${analysis.sentiment}; topics ${analysis.topics.join(', ') || 'none'}; urgent ${analysis.urgent}.`,
        `Review: ${review.text?.trim() || '(rating only, no text)'}`,
        previous ? `Do not repeat this earlier reply word for word: ${previous}` : '',
        request.instruction ? `Staff instruction for this draft: ${request.instruction}` : '',
      ]
        .filter(Boolean)
        .join('\n');
      try {
        for (let attempt = 0; attempt < 2; attempt++) {
          const text = cleanModelText(
            await chatModel.complete(
              [
                { role: 'system', content: DRAFT_SYSTEM_PROMPT },
                { role: 'user', content: attempt === 0 ? prompt : `${prompt}\nWrite a clearly different reply.` },
              ],
              { temperature: 0.7, maxTokens: 400 },
            ),
          );
          if (text && text !== previous) return { text, generator: `llm:${chatModel.name}`, templateKey: null };
        }
      } catch {
        // Fall through to the templates: a reply draft must exist for staff even when the model is down.
      }
      return draftReplyLocally(request);
    },
  };
}

export function replyDrafterFor(chatModel: ChatModel | null): ReplyDrafter {
  if (chatModel) return createLlmReplyDrafter(chatModel);
  return { draft: async (request) => draftReplyLocally(request) };
}
