/**
 * TourSpark sequence definitions: seed 000 4.2's JSON (steps with a delay, an action and a template; exit
 * conditions) plus what a real sequence needs beside it: the templates themselves, quiet hours and the
 * scheduler link. One zod schema validates what the API accepts and what activities read back, so a stored
 * definition is always one the workflow can run.
 */
import { z } from 'zod';
import { durationToMs } from './duration';

export const SEQUENCE_ACTIONS = ['sms', 'email'] as const;
export const EXIT_CONDITIONS = ['tour_booked', 'reply_received', 'opt_out'] as const;
export type ExitCondition = (typeof EXIT_CONDITIONS)[number];

/** Variables a template may use, as `{{name}}`. Anything else is rejected when the definition is saved. */
export const TEMPLATE_VARIABLES = [
  'first_name',
  'name',
  'property_name',
  'unit_type',
  'scheduler_link',
  'office_phone',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** An SMS longer than this is split by carriers into more than 10 segments; Twilio rejects over 1600. */
export const MAX_SMS_LENGTH = 1600;
const MAX_STEPS = 20;
/** Longest wait between two steps: a sequence is follow-up, not a drip campaign. */
const MAX_DELAY_MS = 90 * 24 * 3600_000;

const clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time "HH:MM"');

const duration = z.string().refine(
  (value) => {
    try {
      return durationToMs(value) <= MAX_DELAY_MS;
    } catch {
      return false;
    }
  },
  { message: 'must be a duration such as "0s", "30m", "24h" or "2d", at most 90 days' },
);

const templateText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .superRefine((text, ctx) => {
      for (const name of templateVariablesIn(text)) {
        if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown variable {{${name}}}; use ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}`,
          });
        }
      }
    });

const smsTemplate = z.strictObject({ channel: z.literal('sms'), body: templateText(MAX_SMS_LENGTH) });
const emailTemplate = z.strictObject({
  channel: z.literal('email'),
  subject: templateText(200),
  body: templateText(20_000),
});
export const templateSchema = z.discriminatedUnion('channel', [smsTemplate, emailTemplate]);
export type SequenceTemplate = z.infer<typeof templateSchema>;

/** A step as written: `delay` ("24h", "2s"), or the seed's `delay_hours`. Normalised to `delay`. */
const stepInput = z
  .strictObject({
    id: z.number().int().min(1).max(1000),
    delay: duration.optional(),
    delay_hours: z.number().min(0).max(90 * 24).optional(),
    action: z.enum(SEQUENCE_ACTIONS),
    template: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a lower_snake_case template name'),
  })
  .refine((s) => (s.delay === undefined) !== (s.delay_hours === undefined), {
    message: 'give exactly one of delay ("24h") or delay_hours (24)',
  })
  .transform(({ delay_hours, delay, ...rest }) => ({
    ...rest,
    delay: delay ?? `${delay_hours}h`,
  }));

export const sequenceDefinitionSchema = z
  .strictObject({
    steps: z.array(stepInput).min(1).max(MAX_STEPS),
    exit_conditions: z.array(z.enum(EXIT_CONDITIONS)).max(EXIT_CONDITIONS.length),
    templates: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), templateSchema),
    /** No SMS between start and end in the property's timezone; the step waits for the end. */
    quiet_hours: z.strictObject({ start: clock, end: clock }).default({ start: '21:00', end: '09:00' }),
    /** The link a lead who wants a tour is sent ({{scheduler_link}}). */
    scheduler_url: z.url({ protocol: /^https?$/ }),
  })
  .superRefine((def, ctx) => {
    const seen = new Set<number>();
    def.steps.forEach((step, i) => {
      if (seen.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id ${step.id}` });
      seen.add(step.id);
      const template = def.templates[step.template];
      if (!template) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'template'], message: `no template named "${step.template}"` });
      } else if (template.channel !== step.action) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'template'],
          message: `template "${step.template}" is for ${template.channel}, the step sends ${step.action}`,
        });
      }
    });
    if (new Set(def.exit_conditions).size !== def.exit_conditions.length) {
      ctx.addIssue({ code: 'custom', path: ['exit_conditions'], message: 'exit conditions must not repeat' });
    }
    if (def.quiet_hours.start === def.quiet_hours.end) {
      ctx.addIssue({ code: 'custom', path: ['quiet_hours'], message: 'start and end must differ' });
    }
  });

/** A definition as stored and as the workflow receives it (delays normalised to `delay`). */
export type SequenceDefinition = z.output<typeof sequenceDefinitionSchema>;
export type SequenceDefinitionInput = z.input<typeof sequenceDefinitionSchema>;
export type SequenceStep = SequenceDefinition['steps'][number];

/** `{{ name }}` occurrences in a template. */
export function templateVariablesIn(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)].map((m) => m[1]!);
}

/** Fills `{{variable}}`s; a variable without a value renders as an empty string (never as "{{...}}"). */
export function renderTemplate(text: string, values: Partial<Record<TemplateVariable, string | null>>): string {
  return text
    .replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => values[name as TemplateVariable] ?? '')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** What a property without its own sequence follows: seed 000 4.2's three steps, seed 001 4.1's wording. */
export const DEFAULT_SEQUENCE: SequenceDefinition = sequenceDefinitionSchema.parse({
  steps: [
    { id: 1, delay: '5m', action: 'sms', template: 'intro_sms' },
    { id: 2, delay: '24h', action: 'email', template: 'amenities_email' },
    { id: 3, delay: '48h', action: 'sms', template: 'tour_invite' },
  ],
  exit_conditions: ['tour_booked', 'reply_received', 'opt_out'],
  templates: {
    intro_sms: {
      channel: 'sms',
      body: 'Hi {{first_name}}, this is {{property_name}}. Saw you were interested in a {{unit_type}}. When are you free to tour? Reply STOP to opt out.',
    },
    amenities_email: {
      channel: 'email',
      subject: 'Your tour of {{property_name}}',
      body: 'Hi {{first_name}},\n\nThanks for your interest in {{property_name}}. Here is a virtual tour and a link to pick a time to visit in person: {{scheduler_link}}\n\nQuestions? Reply to this email or call us at {{office_phone}}.',
    },
    tour_invite: {
      channel: 'sms',
      body: 'Hi {{first_name}}, still looking? Book a tour of {{property_name}} here: {{scheduler_link}}',
    },
    // Not a step: sent when a reply asks for a tour.
    scheduler_link_sms: {
      channel: 'sms',
      body: 'Great! Pick a time that works for you: {{scheduler_link}}',
    },
  },
  quiet_hours: { start: '21:00', end: '09:00' },
  scheduler_url: 'https://tours.p11.local/schedule',
});

/** Parses a definition; throws ZodError with paths and messages (the API turns them into a 422). */
export function parseSequenceDefinition(input: unknown): SequenceDefinition {
  return sequenceDefinitionSchema.parse(input);
}
