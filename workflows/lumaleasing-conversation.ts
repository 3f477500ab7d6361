/**
 * One LumaLeasing chat session as a workflow (`lumaleasing/conversation/<id>`). Why a workflow rather than a
 * table-driven state machine: the conversation's mode (AI or staff), its transcript sequence and its lead are
 * decided in one place, one message at a time, and operators see and steer it in the Temporal Web UI (take
 * over, hand back, close) with the same signals the admin UI sends.
 *
 * - The visitor's messages and staff replies are updates (the caller gets the stored message back, or a
 *   validation error); takeover, hand-back and close are signals.
 * - Handlers run one at a time, in arrival order, so `seq` (assigned here, deterministically) orders the
 *   transcript and every activity is idempotent by it.
 * - A run closes after `idleTimeout` without messages; the next visitor message starts a new run under the
 *   same ID (update-with-start), which loads the state back from the database.
 * - Long conversations continue as new when Temporal suggests it, carrying the state.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  log,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
// @temporalio/common is sandbox-safe; the workflow package does not re-export this error class.
import { WorkflowExecutionAlreadyStartedError, type Duration } from '@temporalio/common';
import type { LumaLeasingChatActivities } from '../activities/lumaleasing-chat';
import { leadIntakeWorkflow } from './leads';
import {
  LUMALEASING_PRODUCT,
  closeSignal,
  contactDetailsUpdate,
  conversationStatusQuery,
  handBackSignal,
  leadIntakeWorkflowId,
  staffReplyUpdate,
  takeOverSignal,
  visitorMessageUpdate,
  type ContactDetailsInput,
  type ConversationInput,
  type ConversationState,
  type StaffReplyInput,
  type VisitorMessageInput,
} from './lumaleasing';
import { LeadId, searchAttributePairs } from './search-attributes';

/** The chat lead's source (activities/lumaleasing-chat.ts CHAT_LEAD_SOURCE; workflows may not import it). */
const CHAT_LEAD_SOURCE = 'lumaleasing_chat';
export const MAX_MESSAGE_CHARS = 4000;

// Transcript and state writes: quick, idempotent by seq; transient database errors retry with a short backoff
// because a visitor or a staff member is waiting on most of them.
const chat = proxyActivities<LumaLeasingChatActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 10 },
});

// Answering embeds, retrieves and may call an LLM. Five attempts: the activity itself falls back to the
// extractive answer after its third failed model call, so the later attempts cover database hiccups only.
const answering = proxyActivities<LumaLeasingChatActivities>({
  startToCloseTimeout: '90s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

export interface ConversationRunResult {
  conversationId: string;
  /** idle: no message for `idleTimeout`; closed: staff or an operator closed it. */
  closedBy: 'idle' | 'closed';
  messagesThisRun: number;
}

function validateText(text: unknown, what: string): string {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (!trimmed) throw new Error(`${what} must not be empty`);
  if (trimmed.length > MAX_MESSAGE_CHARS) throw new Error(`${what} is longer than ${MAX_MESSAGE_CHARS} characters`);
  return trimmed;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;

function validateContact(input: ContactDetailsInput): void {
  const name = typeof input?.name === 'string' ? input.name.trim() : '';
  if (!name || name.length > 200) throw new Error('A name (up to 200 characters) is required');
  const email = input.email?.trim() || null;
  const phone = input.phone?.trim() || null;
  if (!email && !phone) throw new Error('An email or a phone number is required');
  if (email && !EMAIL.test(email)) throw new Error('The email address is not valid');
  if (phone && phone.replace(/\D/g, '').length < 7) throw new Error('The phone number is not valid');
}

/** An activity failure as the update's caller should see it (the API maps it to a 5xx). */
function answerFailed(what: string, err: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${what}: ${err instanceof Error ? err.message : String(err)}`,
    type: 'ConversationStepFailed',
    nonRetryable: true,
    cause: err instanceof Error ? err : undefined,
  });
}

export async function conversationWorkflow(input: ConversationInput): Promise<ConversationRunResult> {
  const { orgId, propertyId, conversationId } = input;
  const ref = { orgId, conversationId };
  let state: ConversationState | undefined = input.carried;
  let open = true;
  let closeRequested = false;
  let messagesThisRun = 0;
  /** Moves on every message (start and end), so the idle timer measures quiet time. */
  let activity = 0;

  // One message at a time, in arrival order: a promise chain, deterministic like everything else here.
  let tail: Promise<unknown> = Promise.resolve();
  function serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  }
  const loaded = (): ConversationState => {
    if (!state) throw new Error('Conversation state not loaded');
    return state;
  };
  // First in the chain, so every handler (even one delivered with the start) sees the loaded state.
  const ready = state
    ? Promise.resolve()
    : serialised(async () => {
        state = await chat.loadConversationState(ref);
      });

  async function startLeadIntake(leadId: string): Promise<void> {
    const summary = `Lead ${leadId.slice(0, 8)} from chat ${conversationId.slice(0, 8)}`;
    try {
      await startChild(leadIntakeWorkflow, {
        workflowId: leadIntakeWorkflowId(leadId),
        args: [{ orgId, leadId, propertyId, source: CHAT_LEAD_SOURCE, conversationId }],
        // The intake (and whatever follow-up it starts) outlives this conversation's run.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // One intake per lead, ever: a replayed or continued conversation must not publish lead.created twice.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: searchAttributePairs({ orgId, product: LUMALEASING_PRODUCT, propertyId, leadId }),
        memo: { summary },
        staticSummary: summary,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /** Creates or updates the conversation's lead; the first time, hands it to lead intake. */
  async function captureLead(contact: { name: string; email: string | null; phone: string | null }): Promise<string> {
    const s = loaded();
    const hadLead = s.leadId !== null;
    const { leadId, created } = await chat.captureChatLead({ ...ref, propertyId, contact });
    s.leadId = leadId;
    if (!hadLead) upsertSearchAttributes([{ key: LeadId, value: leadId }]);
    // `created` alone is not enough: a retried capture finds the lead it inserted and reports created=false.
    if (created || !hadLead) await startLeadIntake(leadId);
    return leadId;
  }

  setHandler(
    visitorMessageUpdate,
    async (message: VisitorMessageInput) => {
      activity++;
      // The validator has checked it; trimmed as checked.
      const text = message.text.trim();
      try {
        return await serialised(async () => {
          const s = loaded();
          const visitorSeq = s.nextSeq++;
          // Staff has the conversation: the visitor's message waits for a person, the assistant stays quiet.
          const replySeq = s.mode === 'ai' ? s.nextSeq++ : null;
          let result;
          try {
            result = await answering.answerVisitorMessage({
              ...ref,
              propertyId,
              visitorSeq,
              replySeq,
              text,
            });
          } catch (err) {
            throw answerFailed('The message could not be answered', err);
          }
          messagesThisRun += result.reply ? 2 : 1;
          if (result.contact) {
            try {
              await captureLead(result.contact);
            } catch (err) {
              // The answer stands; the details can be given again (or through the contact form).
              log.warn('Could not capture the lead from a chat message', { conversationId, error: String(err) });
            }
          }
          return { message: result.message, reply: result.reply, mode: s.mode, leadId: s.leadId };
        });
      } finally {
        activity++;
      }
    },
    { validator: (message: VisitorMessageInput) => void validateText(message?.text, 'The message') },
  );

  setHandler(
    contactDetailsUpdate,
    async (contact: ContactDetailsInput) => {
      activity++;
      try {
        return await serialised(async () => {
          try {
            const leadId = await captureLead({
              name: contact.name.trim(),
              email: contact.email?.trim() || null,
              phone: contact.phone?.trim() || null,
            });
            return { leadId };
          } catch (err) {
            throw answerFailed('The contact details could not be saved', err);
          }
        });
      } finally {
        activity++;
      }
    },
    { validator: validateContact },
  );

  setHandler(
    staffReplyUpdate,
    async (reply: StaffReplyInput) => {
      activity++;
      const text = reply.text.trim();
      try {
        return await serialised(async () => {
          const s = loaded();
          const seq = s.nextSeq++;
          try {
            const message = await chat.recordStaffReply({ ...ref, seq, input: { ...reply, text } });
            messagesThisRun += 1;
            return message;
          } catch (err) {
            throw answerFailed('The reply could not be stored', err);
          }
        });
      } finally {
        activity++;
      }
    },
    {
      // Checked on arrival, against the mode as of now (a takeover signal flips it at once).
      validator: (reply: StaffReplyInput) => {
        if (!state || state.mode !== 'staff') throw new Error('Staff has not taken this conversation over');
        validateText(reply?.text, 'The reply');
      },
    },
  );

  /** Mirrors a mode change into the database, after the messages before it; failures are logged, not fatal. */
  function mirrorMode(snapshot: Pick<ConversationState, 'mode' | 'takenOverBy'>, notice: string) {
    void serialised(async () => {
      const seq = loaded().nextSeq++;
      await chat.setConversationMode({ ...ref, state: snapshot, notice: { seq, content: notice } });
    }).catch((err) => log.warn('Could not record the conversation mode', { conversationId, error: String(err) }));
  }

  setHandler(takeOverSignal, (by) => {
    activity++;
    const apply = () => {
      const s = loaded();
      if (s.mode === 'staff' && s.takenOverBy?.userId === by.userId) return;
      s.mode = 'staff';
      s.takenOverBy = { userId: by.userId, name: by.name };
      mirrorMode({ mode: 'staff', takenOverBy: s.takenOverBy }, `${by.name} joined the conversation.`);
    };
    // Flipped at once when the state is there, so a staff reply sent right after passes its validator.
    if (state) apply();
    else void ready.then(apply);
  });

  setHandler(handBackSignal, () => {
    activity++;
    const apply = () => {
      const s = loaded();
      if (s.mode === 'ai') return;
      s.mode = 'ai';
      s.takenOverBy = null;
      mirrorMode({ mode: 'ai', takenOverBy: null }, 'The virtual assistant is answering again.');
    };
    if (state) apply();
    else void ready.then(apply);
  });

  setHandler(closeSignal, () => {
    closeRequested = true;
  });

  setHandler(conversationStatusQuery, () => ({ ...loaded(), open, messagesThisRun }));

  await ready;

  /** Waits until no handler runs and nothing is queued (signal work is queued without being a handler). */
  async function drain(): Promise<void> {
    for (;;) {
      await condition(allHandlersFinished);
      const queued = tail;
      await queued;
      if (queued === tail && allHandlersFinished()) return;
    }
  }

  for (;;) {
    const seen = activity;
    const woke = await condition(
      () => closeRequested || activity !== seen || workflowInfo().continueAsNewSuggested,
      input.idleTimeout as Duration,
    );
    if (woke && !closeRequested && !workflowInfo().continueAsNewSuggested) continue;

    if (woke && !closeRequested) {
      // History is getting long: carry the state into a fresh run once nothing is in flight.
      await drain();
      const info = workflowInfo();
      // Memo and search attributes (OrgId, PropertyId, LeadId…) go along, so the conversation stays findable.
      return makeContinueAsNewFunc<typeof conversationWorkflow>({
        memo: info.memo,
        typedSearchAttributes: info.typedSearchAttributes,
      })({ ...input, carried: loaded() });
    }

    // Idle, or asked to close: finish what is in flight first; a message that arrived meanwhile keeps it open.
    await drain();
    if (!closeRequested && activity !== seen) continue;
    open = false;
    const before = activity;
    await serialised(() => chat.closeConversation(ref));
    await drain();
    if (activity !== before) {
      // The visitor wrote while it was closing: that message reopened the conversation (in the database too).
      open = true;
      closeRequested = false;
      continue;
    }
    return { conversationId, closedBy: closeRequested ? 'closed' : 'idle', messagesThisRun };
  }
}
