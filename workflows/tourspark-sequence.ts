/**
 * One TourSpark follow-up sequence per lead (`tourspark/lead/<leadId>`): seed 000 4.3's cron-polled state
 * machine as a workflow. Durable timers wait out each step's delay; signals (reply, tour booked, opt-out,
 * pause, resume) interrupt them at once rather than at the next poll.
 *
 * - The plan (definition, timezone, reply window) is read once, by an activity, when the run starts: editing
 *   the property's sequence later never changes a running lead's steps.
 * - Step N waits its delay after step N-1 went (or after the start). Pause stops the steps: on resume an
 *   overdue step goes at once, otherwise the rest of its delay is waited. A step the send activity defers
 *   (quiet hours) waits until the time it names and tries again.
 * - Exits: tour booked (converted), a reply (when the definition lists reply_received), an opt-out (always),
 *   or the last step. After the exit the run keeps routing replies until the reply window passes quietly,
 *   then closes; a later reply starts a reply-only run under the same ID (signal-with-start).
 * - Everything that messages the lead or changes its state runs one at a time, in arrival order (a promise
 *   chain): a STOP that arrives while a step is due is handled before the step is tried, and the step then
 *   sees the exit. Every send is exactly once by its key, whatever retries or replays happen.
 * - lead_workflows mirrors the state after each transition (the newest state, written in order).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlannedSequence, SendLeadMessageInput, SendOutcome, TourSparkActivities } from '../activities/tourspark';
import type { LeadWorkflowStatus, MessageChannel, SequenceExitReason } from '../db/schema/tourspark';
import type { SequenceTemplate } from '../lib/tourspark-definition';
import {
  optOutSignal,
  pauseSignal,
  replyReceivedSignal,
  resumeSignal,
  sequenceStatusQuery,
  staffMessageUpdate,
  stepMessageKey,
  tourBookedSignal,
  tourSparkWorkflowId,
  type ReplyReceivedInput,
  type SequenceState,
  type SequenceStatus,
  type StaffMessageInput,
  type StaffMessageResult,
  type TourSparkSequenceInput,
  type TourSparkSequenceResult,
} from './tourspark';

// Database reads and writes: idempotent, retried until the database answers.
const store = proxyActivities<TourSparkActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// Classification falls back to the local rules on any model error, so it only fails on the database: retried
// until it answers (a STOP must never be lost to a hiccup). Long enough for a slow model call plus the SDK's retries.
const classifying = proxyActivities<TourSparkActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// Answers may call the chat model (falling back to the extractive answer on their own); a few attempts cover
// database hiccups, then the question goes to staff.
const thinking = proxyActivities<TourSparkActivities>({
  startToCloseTimeout: '90s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

// LeadPulse rescoring after a reply (activities/leadpulse.ts): a few attempts, then the old score stands.
const scoring = proxyActivities<{ scoreLead(input: { orgId: string; leadId: string }): Promise<unknown> }>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

/** The longest SMS staff may send (Twilio's limit) and email body. */
const MAX_STAFF_SMS = 1600;
const MAX_STAFF_EMAIL = 20_000;

/** Sent when a lead asks for a tour and the definition has no `scheduler_link_sms` / `scheduler_link_email`. */
const BUILT_IN_SCHEDULER_SMS: SequenceTemplate = {
  channel: 'sms',
  body: 'Great! Pick a time that works for you: {{scheduler_link}}',
};
const BUILT_IN_SCHEDULER_EMAIL: SequenceTemplate = {
  channel: 'email',
  subject: 'Book your tour of {{property_name}}',
  body: 'Hi {{first_name}},\n\nGreat, we would love to show you around {{property_name}}. Pick a time that works for you here: {{scheduler_link}}\n\nSee you soon!',
};

function validateStaffMessage(
  message: StaffMessageInput,
  plan: PlannedSequence | null | undefined,
  optedOut: { sms: boolean; email: boolean },
): void {
  if (message?.channel !== 'sms' && message?.channel !== 'email') throw new Error('channel must be "sms" or "email"');
  const body = typeof message.body === 'string' ? message.body.trim() : '';
  if (!body) throw new Error('The message must not be empty');
  const max = message.channel === 'sms' ? MAX_STAFF_SMS : MAX_STAFF_EMAIL;
  if (body.length > max) throw new Error(`The message is longer than ${max} characters`);
  if (typeof message.requestId !== 'string' || !message.requestId.trim() || message.requestId.length > 200) {
    throw new Error('requestId is required (up to 200 characters)');
  }
  // Before the plan is loaded (update-with-start delivers the update with the start) the handler checks these.
  if (plan) checkStaffChannel(message.channel, plan, optedOut);
}

function checkStaffChannel(
  channel: MessageChannel,
  plan: PlannedSequence | null,
  optedOut: { sms: boolean; email: boolean },
) {
  const what = channel === 'sms' ? 'phone number' : 'email address';
  if (!plan || !plan.channels[channel]) throw new Error(`The lead has no ${what}`);
  if (optedOut[channel]) throw new Error(`The lead opted out of ${channel === 'sms' ? 'SMS' : 'email'}`);
}

export async function tourSparkSequenceWorkflow(input: TourSparkSequenceInput): Promise<TourSparkSequenceResult> {
  const { orgId, leadId } = input;
  const replyOnly = input.replyOnly === true;
  const workflowId = tourSparkWorkflowId(leadId);
  const lead = { orgId, leadId };

  /** Undefined until the first activity has answered; null when the lead has no phone or email. */
  let plan: PlannedSequence | null | undefined;
  let state: SequenceState = replyOnly ? 'following_up' : 'waiting';
  let currentStep = 0;
  let stepsSent = 0;
  let exitReason: SequenceExitReason | null = null;
  let paused = false;
  let pausedReason: string | null = null;
  let needsStaff = false;
  let optedOut = { sms: false, email: false };
  let nextStepAt: number | null = null;
  let lastActionAt: number | null = null;
  /** Moves on every reply and staff message: the reply window measures quiet time. */
  let activity = 0;
  const seenReplies = new Set<string>();

  // One piece of lead-facing work at a time, in arrival order.
  let tail: Promise<unknown> = Promise.resolve();
  function serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  }

  let sending = store;
  const ready = serialised(async () => {
    plan = await store.planSequence({ orgId, leadId, propertyId: input.propertyId });
    if (!plan) return;
    optedOut = { ...plan.optedOut };
    if (replyOnly && plan.mirror) {
      // A reply-only run continues the lead's automation state: a staff takeover stays in force.
      paused = plan.mirror.pausedReason !== null;
      pausedReason = plan.mirror.pausedReason;
      needsStaff = plan.mirror.needsStaff;
    }
    // A send is safe to retry (exactly once by key, reconciled with the provider), so attempts are unlimited
    // within a day; the attempt timeout is the worker's (sendTimeout), longer than any provider call.
    sending = proxyActivities<TourSparkActivities>({
      startToCloseTimeout: plan.sendTimeoutMs,
      scheduleToCloseTimeout: '24h',
      retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m' },
    });
  });

  const totalSteps = () => (plan ? plan.definition.steps.length : 0);
  const sequenceRunning = () => !replyOnly && exitReason === null;

  // ── lead_workflows mirror ───────────────────────────────────────────────────────────────────────────────
  let mirrorWanted = 0;
  let mirrorDone = 0;
  let mirroring: Promise<void> | null = null;

  function mirrorStatus(): LeadWorkflowStatus | undefined {
    if (exitReason === 'tour_booked') return 'converted';
    if (replyOnly) return plan?.mirror ? undefined : 'completed';
    if (exitReason === 'completed') return 'completed';
    if (exitReason) return 'exited';
    return paused ? 'paused' : 'active';
  }

  function snapshot() {
    // A reply-only run does not rewrite its sequence's steps or outcome, only a conversion.
    const steps = replyOnly
      ? plan?.mirror
        ? {}
        : { currentStep: 0, totalSteps: 0 }
      : { currentStep, totalSteps: totalSteps() };
    const exit = replyOnly ? (exitReason === 'tour_booked' ? { exitReason } : {}) : { exitReason };
    return {
      orgId,
      leadId,
      propertyId: input.propertyId,
      workflowId,
      status: mirrorStatus(),
      ...steps,
      ...exit,
      pausedReason: paused ? pausedReason : null,
      needsStaff,
      nextActionAt: nextStepAt !== null && !paused ? new Date(nextStepAt).toISOString() : null,
      lastActionAt: lastActionAt !== null ? new Date(lastActionAt).toISOString() : null,
    };
  }

  /** Asks for the current state to be written; writes happen one at a time, each with the newest state. */
  function mirror() {
    mirrorWanted++;
    if (mirroring) return;
    mirroring = (async () => {
      try {
        await ready;
        while (mirrorDone < mirrorWanted) {
          const target = mirrorWanted;
          await store.recordSequenceState(snapshot());
          mirrorDone = target;
        }
      } catch (err) {
        // The mirror trails the workflow; the next transition writes the state again.
        log.warn('Could not mirror the sequence state', { leadId, error: String(err) });
        mirrorDone = mirrorWanted;
      } finally {
        mirroring = null;
      }
    })();
  }

  function exit(reason: SequenceExitReason) {
    if (reason === 'tour_booked') {
      // A booked tour is the outcome that matters most: it replaces an earlier exit (a reply, the last step).
      if (exitReason === 'tour_booked') return;
    } else if (!sequenceRunning()) {
      return;
    }
    exitReason = reason;
    nextStepAt = null;
    if (state !== 'closed') state = 'following_up';
    mirror();
  }

  // ── Sends ───────────────────────────────────────────────────────────────────────────────────────────────
  function sendToLead(message: Omit<SendLeadMessageInput, 'orgId' | 'leadId'>): Promise<SendOutcome> {
    return sending.sendLeadMessage({ orgId, leadId, ...message });
  }

  /** After a send that found the address opted out (elsewhere, or at the carrier), the state follows. */
  function noteOutcome(channel: MessageChannel, outcome: SendOutcome) {
    if (outcome.outcome === 'sent') lastActionAt = Date.now();
    if (outcome.outcome === 'skipped' && outcome.optedOut) optedOut = { ...optedOut, [channel]: true };
  }

  function schedulerTemplate(channel: MessageChannel): { name: string; content: SequenceTemplate } {
    const name = channel === 'sms' ? 'scheduler_link_sms' : 'scheduler_link_email';
    const own = plan?.definition.templates[name];
    return own && own.channel === channel
      ? { name, content: own }
      : { name, content: channel === 'sms' ? BUILT_IN_SCHEDULER_SMS : BUILT_IN_SCHEDULER_EMAIL };
  }

  // ── Replies ─────────────────────────────────────────────────────────────────────────────────────────────
  async function handleReply(reply: ReplyReceivedInput): Promise<void> {
    if (!plan) return;
    const { messageId } = reply;
    const registered = await store.registerReply({ ...lead, messageId });
    lastActionAt = Date.now();
    if (registered.alreadyRouted) {
      mirror();
      return;
    }
    const channel = registered.channel;
    // A reply changes the lead's features (interactions, response time): the score at intake only knew the inquiry.
    try {
      await scoring.scoreLead({ orgId: lead.orgId, leadId });
    } catch (err) {
      log.warn('Rescoring after a reply failed; the previous score stands', { leadId, error: String(err) });
    }
    const replyKey = `${workflowId}/reply/${messageId}`;
    const classification = await classifying.classifyReply({ ...lead, messageId });

    if (classification.intent === 'unsubscribe' || classification.intent === 'resubscribe') {
      // Consent first, whatever else is going on (paused, staff, exits): the law does not wait for a person.
      const optingOut = classification.intent === 'unsubscribe';
      const result = await store.setLeadOptOut({
        ...lead,
        channel,
        optedOut: optingOut,
        source: classification.keyword ?? 'reply',
        messageId,
      });
      optedOut = result.optedOut;
      if (result.changed) {
        // One confirmation per change of consent (a second STOP changes nothing, so it gets none).
        const name = plan.propertyName;
        noteOutcome(
          channel,
          await sendToLead(
            optingOut
              ? {
                  key: replyKey,
                  channel,
                  author: 'system',
                  body: `You're unsubscribed from ${name} messages. Reply START to resubscribe.`,
                  subject: `You're unsubscribed from ${name}`,
                  ignoreOptOut: true,
                }
              : {
                  key: replyKey,
                  channel,
                  author: 'system',
                  body: `You're resubscribed to ${name} messages. Reply STOP to unsubscribe.`,
                  subject: `You're resubscribed to ${name}`,
                },
          ),
        );
      }
      if (optingOut) exit('opt_out');
      mirror();
      return;
    }

    if (plan.definition.exit_conditions.includes('reply_received')) exit('reply_received');

    let route: string;
    if (paused || optedOut[channel]) {
      // Staff has this lead (or we may not write back on this channel): a person reads it.
      route = 'needs_staff';
    } else if (classification.intent === 'book_tour') {
      const outcome = await sendReply(replyKey, channel, {
        template: schedulerTemplate(channel),
        schedulerUrl: plan.definition.scheduler_url,
      });
      route = outcome?.outcome === 'sent' ? 'scheduler_link' : 'needs_staff';
    } else if (classification.intent === 'question') {
      let answer: string | null = null;
      try {
        const composed = await thinking.composeReplyAnswer({
          ...lead,
          messageId,
          propertyId: input.propertyId,
          channel,
        });
        answer = composed.body;
      } catch (err) {
        log.warn('Could not answer a question from the documents; handing it to staff', { leadId, error: String(err) });
      }
      if (answer) {
        const outcome = await sendReply(replyKey, channel, {
          body: answer,
          subject: `Re: your question about ${plan.propertyName}`,
        });
        route = outcome?.outcome === 'sent' ? 'answered' : 'needs_staff';
      } else {
        route = 'needs_staff';
      }
    } else {
      route = 'needs_staff';
    }
    await store.markReplyRouted({ ...lead, messageId, route });
    if (route === 'needs_staff') needsStaff = true;
    mirror();
  }

  /** An automatic answer to a reply; a failure after the send's retries leaves the reply to staff. */
  async function sendReply(
    key: string,
    channel: MessageChannel,
    content: Pick<SendLeadMessageInput, 'template' | 'body' | 'subject' | 'schedulerUrl'>,
  ): Promise<SendOutcome | null> {
    try {
      const outcome = await sendToLead({ key, channel, author: 'auto_reply', ...content });
      noteOutcome(channel, outcome);
      return outcome;
    } catch (err) {
      log.warn('Could not send an automatic reply', { leadId, error: String(err) });
      return null;
    }
  }

  // ── Handlers ────────────────────────────────────────────────────────────────────────────────────────────
  setHandler(replyReceivedSignal, (reply) => {
    activity++;
    // The webhook may signal the same stored reply twice (provider retries): route it once.
    if (!reply?.messageId || seenReplies.has(reply.messageId)) return;
    seenReplies.add(reply.messageId);
    void serialised(() => handleReply(reply)).catch((err) =>
      log.warn('Could not handle a reply', { leadId, messageId: reply.messageId, error: String(err) }),
    );
  });

  setHandler(tourBookedSignal, (booked) => {
    activity++;
    exit('tour_booked');
    void serialised(() => store.markTourBooked({ ...lead, tourAt: booked?.tourAt ?? null })).catch((err) =>
      log.warn('Could not record the booked tour', { leadId, error: String(err) }),
    );
  });

  setHandler(optOutSignal, (request) => {
    activity++;
    const channel = request?.channel ?? 'all';
    void serialised(async () => {
      const result = await store.setLeadOptOut({
        ...lead,
        channel,
        optedOut: true,
        source: request?.source || 'signal',
      });
      optedOut = result.optedOut;
      exit('opt_out');
      mirror();
    }).catch((err) => log.warn('Could not record an opt-out', { leadId, error: String(err) }));
  });

  setHandler(pauseSignal, (request) => {
    paused = true;
    pausedReason = request?.reason || 'operator';
    if (state === 'waiting') state = 'paused';
    mirror();
  });

  setHandler(resumeSignal, () => {
    paused = false;
    pausedReason = null;
    if (state === 'paused') state = 'waiting';
    mirror();
  });

  setHandler(
    staffMessageUpdate,
    async (message: StaffMessageInput): Promise<StaffMessageResult> => {
      activity++;
      try {
        return await serialised(async () => {
          try {
            checkStaffChannel(message.channel, plan ?? null, optedOut);
          } catch (err) {
            throw ApplicationFailure.create({
              message: (err as Error).message,
              type: 'InvalidStaffMessage',
              nonRetryable: true,
            });
          }
          let outcome: SendOutcome;
          try {
            outcome = await sendToLead({
              key: `${workflowId}/staff/${message.requestId}`,
              channel: message.channel,
              author: 'staff',
              body: message.body.trim(),
              subject: message.subject?.trim() || undefined,
            });
          } catch (err) {
            throw ApplicationFailure.create({
              message: `The message could not be sent: ${err instanceof Error ? err.message : String(err)}`,
              type: 'StaffMessageFailed',
              nonRetryable: true,
            });
          }
          noteOutcome(message.channel, outcome);
          if (outcome.outcome === 'sent') {
            // A person is talking to the lead now: automation steps aside until someone resumes it.
            paused = true;
            pausedReason = 'staff_reply';
            needsStaff = false;
            if (state === 'waiting') state = 'paused';
          }
          mirror();
          return {
            messageId: outcome.outcome === 'deferred' ? '' : outcome.messageId,
            status: outcome.outcome,
          };
        });
      } finally {
        activity++;
      }
    },
    { validator: (message: StaffMessageInput) => validateStaffMessage(message, plan, optedOut) },
  );

  setHandler(sequenceStatusQuery, (): SequenceStatus => ({
    leadId,
    state,
    currentStep,
    totalSteps: totalSteps(),
    nextStepAt: nextStepAt !== null && !paused ? new Date(nextStepAt).toISOString() : null,
    exitReason,
    pausedReason: paused ? pausedReason : null,
    needsStaff,
    optedOut: { ...optedOut },
  }));

  // ── The run ─────────────────────────────────────────────────────────────────────────────────────────────
  await ready;

  /** Waits until no handler runs, nothing is queued and the mirror has written the newest state. */
  async function drain(): Promise<void> {
    for (;;) {
      await condition(allHandlersFinished);
      const queued = tail;
      await queued;
      const writing = mirroring;
      if (writing) await writing;
      if (queued === tail && allHandlersFinished() && !mirroring && mirrorDone === mirrorWanted) return;
    }
  }

  if (!plan) {
    // No phone and no email: nothing to follow up on. Recorded, so the lead page says why.
    if (!replyOnly) {
      exitReason = 'cancelled';
      mirror();
    }
    state = 'closed';
    await drain();
    return { leadId, exitReason, stepsSent };
  }
  const sequence = plan;

  /** Waits for `dueAt` (workflow time), stopping while paused; returns early when the sequence exits. */
  async function waitUntil(dueAt: number): Promise<void> {
    for (;;) {
      if (exitReason) return;
      if (paused) {
        state = 'paused';
        mirror();
        await condition(() => !paused || exitReason !== null);
        continue;
      }
      const remaining = dueAt - Date.now();
      if (remaining <= 0) return;
      state = 'waiting';
      nextStepAt = dueAt;
      mirror();
      const interrupted = await condition(() => paused || exitReason !== null, remaining);
      if (!interrupted) return;
    }
  }

  if (!replyOnly) {
    mirror();
    const steps = sequence.definition.steps;
    for (let i = 0; i < steps.length && !exitReason; i++) {
      const step = steps[i]!;
      const template = sequence.definition.templates[step.template]!;
      let dueAt = Date.now() + sequence.stepDelaysMs[i]!;
      for (;;) {
        await waitUntil(dueAt);
        if (exitReason) break;
        const result = await serialised(async (): Promise<SendOutcome | 'paused' | 'exited'> => {
          // A reply, opt-out or pause handled while this step was queued behind it decides first.
          if (exitReason) return 'exited';
          if (paused) return 'paused';
          return sendToLead({
            key: stepMessageKey(leadId, step.id),
            channel: step.action,
            author: 'sequence',
            stepId: step.id,
            template: { name: step.template, content: template },
            schedulerUrl: sequence.definition.scheduler_url,
            quietHours: sequence.definition.quiet_hours,
            timezone: sequence.timezone,
          });
        }).catch((err): 'failed' => {
          // Retries for a day did not get it out (or in): the step counts as tried and the sequence goes on.
          log.error('A sequence step could not be sent', { leadId, stepId: step.id, error: String(err) });
          return 'failed';
        });
        if (result === 'exited') break;
        if (result === 'paused') continue;
        if (result !== 'failed' && result.outcome === 'deferred') {
          // Quiet hours: try again when they end (a pause or exit meanwhile still interrupts).
          dueAt = Date.now() + Math.max(1000, result.waitMs);
          continue;
        }
        currentStep = i + 1;
        nextStepAt = null;
        if (result !== 'failed') {
          noteOutcome(step.action, result);
          if (result.outcome === 'sent') stepsSent++;
          if (result.outcome === 'skipped') {
            if (result.reason.startsWith('lead_')) exit('tour_booked');
            else if (result.reason === 'sequence_disabled') exit('cancelled');
            else if (
              result.optedOut &&
              (!sequence.channels.sms || optedOut.sms) &&
              (!sequence.channels.email || optedOut.email)
            ) {
              // Every channel the lead has is opted out: nothing more can be sent.
              exit('opt_out');
            }
          }
        }
        mirror();
        break;
      }
    }
    exit('completed');
  }

  // Following up: replies are routed until the window passes without one, then the run closes.
  state = 'following_up';
  nextStepAt = null;
  mirror();
  for (;;) {
    const seen = activity;
    const woke = await condition(
      () => activity !== seen || workflowInfo().continueAsNewSuggested,
      sequence.replyWindowMs,
    );
    if (woke && activity === seen) {
      // A very long conversation: carry on in a fresh reply-only run (it reloads the state from the mirror).
      await drain();
      return makeContinueAsNewFunc<typeof tourSparkSequenceWorkflow>({
        memo: workflowInfo().memo,
        typedSearchAttributes: workflowInfo().typedSearchAttributes,
      })({ ...input, replyOnly: true });
    }
    if (woke) continue;
    await drain();
    if (activity === seen) break;
  }
  state = 'closed';
  mirror();
  await drain();
  return { leadId, exitReason, stepsSent };
}
