/**
 * What Twilio and SendGrid post to us: inbound SMS and delivery status callbacks (signed with the account's
 * auth token, X-Twilio-Signature), Event Webhook batches (ECDSA-signed) and Inbound Parse replies (a secret in
 * the URL, since Inbound Parse signs nothing). Public: mounted before auth; the provider's proof is checked
 * before anything is read. The organization is found from what the request names (a number, an address, a
 * message id) through db/system.ts, and everything after that runs under the tenant.
 *
 * Inbound messages are stored once per provider message (a retried webhook finds its row) and signalled to
 * the lead's sequence, started as a reply-only run when none is open. A signal that fails removes the row it
 * just stored and answers 500, so the provider's retry stores and signals it again: a reply is never stored
 * without reaching the workflow, and never signalled twice.
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { MessageChannel, MessageStatus } from '../../db/schema';
import {
  findLeadMessageById,
  findLeadMessageByProviderId,
  findLeadRoute,
  findSequenceLeadByEmailHash,
  findSequenceLeadByPhoneHash,
  type LeadRoute,
} from '../../db/system';
import { isUuid } from '../../db/tenancy';
import {
  parseInboundParse,
  parseSendGridEvents,
  SendGridPayloadError,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  verifySendGridEventSignature,
  type InboundEmail,
  type SendGridEvent,
} from '../../integrations/sendgrid-webhooks';
import { TWIML_CONTENT_TYPE, twimlEmptyResponse, validateTwilioSignature } from '../../integrations/twilio';
import { contactHashes, normalizeEmail } from '../../lib/contact';
import { constantTimeEqual } from '../../lib/crypto';
import { optOutSignal, replyReceivedSignal } from '../../workflows/tourspark';
import type { AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import {
  advanceMessageStatus,
  forgetInboundMessage,
  signalSequenceWithStart,
  storeInboundMessage,
} from '../leads-shared';

/** SendGrid accepts messages up to 30 MB (attachments included); Inbound Parse posts them whole. */
const INBOUND_PARSE_MAX_BYTES = 30 * 1024 * 1024;
const INBOUND_PARSE_PREFIX = '/webhooks/sendgrid/inbound/';

/** The Inbound Parse route, which the app's global body limit lets through: it has its own, larger one. */
export function isInboundParse(method: string, path: string): boolean {
  return method === 'POST' && path.startsWith(INBOUND_PARSE_PREFIX);
}

/** Twilio's MessageStatus words → ours. Twilio's queued/sending mean it accepted the message: our "sent". */
const TWILIO_STATUSES: Record<string, MessageStatus> = {
  accepted: 'sent',
  scheduled: 'sent',
  queued: 'sent',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  read: 'opened',
};

/** Event Webhook events that move a message's status; deferred (SendGrid still retrying) and processed do not. */
const SENDGRID_STATUSES: Record<string, MessageStatus> = {
  delivered: 'delivered',
  bounce: 'bounced',
  dropped: 'dropped',
  open: 'opened',
  // A click means the email was opened, whether or not the open pixel loaded.
  click: 'opened',
};
const SENDGRID_OPT_OUTS = new Set(['unsubscribe', 'group_unsubscribe', 'spamreport']);

const forbiddenSignature = (provider: string) =>
  new ApiError(403, 'invalid_signature', `The request is not signed by ${provider}`);

/** A url-encoded form as Twilio posts it; repeated fields keep all their values (the signature covers them). */
async function formParams(c: Context): Promise<Record<string, string | string[]>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Twilio posts application/x-www-form-urlencoded');
  }
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(await c.req.text())) {
    const previous = params[key];
    params[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return params;
}

const one = (value: string | string[] | undefined): string | null =>
  value === undefined ? null : Array.isArray(value) ? (value[0] ?? null) : value;

export function createProviderWebhookRoutes(deps: AppDeps) {
  const { config } = deps;
  const now = deps.now ?? (() => new Date());
  const inboundLimit = bodyLimit({
    maxSize: INBOUND_PARSE_MAX_BYTES,
    onError: () => {
      throw new ApiError(
        413,
        'payload_too_large',
        `Inbound Parse posts may be at most ${INBOUND_PARSE_MAX_BYTES} bytes`,
      );
    },
  });

  /** Twilio signs the URL it was configured with, i.e. as the public reaches us, query string included. */
  async function verifiedTwilioForm(c: Context) {
    const params = await formParams(c);
    const url = new URL(c.req.url);
    const signedUrl = `${config.publicUrl}${url.pathname}${url.search}`;
    if (!validateTwilioSignature(config.twilio.authToken, c.req.header('x-twilio-signature'), signedUrl, params)) {
      throw forbiddenSignature('Twilio');
    }
    return params;
  }

  /** Stores the inbound row and signals the sequence; see the file comment for the failure contract. */
  async function deliverReply(
    lead: LeadRoute,
    channel: MessageChannel,
    message: { idempotencyKey: string; providerMessageId: string | null; body: string; subject?: string | null },
  ) {
    const stored = await storeInboundMessage(deps.db, { ...lead, channel, ...message });
    if (!stored.created) return { messageId: stored.id, duplicate: true };
    try {
      await signalSequenceWithStart(deps, lead, replyReceivedSignal, [{ messageId: stored.id, channel }]);
    } catch (err) {
      await forgetInboundMessage(deps.db, lead.orgId, stored.id).catch((cleanup) =>
        console.error(`[webhooks] could not remove inbound message ${stored.id} after a failed signal`, cleanup),
      );
      throw err;
    }
    return { messageId: stored.id, duplicate: false };
  }

  /** The lead an email reply belongs to: our reply address names it; otherwise the sender's address does. */
  async function leadOfEmail(email: InboundEmail): Promise<LeadRoute | null> {
    const domain = config.email.replyDomain.toLowerCase();
    for (const address of email.to) {
      const match = /^reply\+([0-9a-f-]{36})@(.+)$/i.exec(address);
      if (match && match[2]!.toLowerCase() === domain && isUuid(match[1]!)) {
        const lead = await findLeadRoute(deps.db, match[1]!.toLowerCase());
        if (lead) return lead;
      }
    }
    const { emailHash } = contactHashes(deps.encryptor, { email: email.from.email, phone: null });
    return emailHash ? findSequenceLeadByEmailHash(deps.db, emailHash) : null;
  }

  /** The lead an Event Webhook event is about: our message id, our lead id, or the recipient's address. */
  async function leadOfEvent(event: SendGridEvent): Promise<LeadRoute | null> {
    const messageId = event.customArgs.message_id;
    if (messageId && isUuid(messageId)) {
      const message = await findLeadMessageById(deps.db, messageId);
      if (message) return findLeadRoute(deps.db, message.leadId);
    }
    const leadId = event.customArgs.lead_id;
    if (leadId && isUuid(leadId)) {
      const lead = await findLeadRoute(deps.db, leadId);
      if (lead) return lead;
    }
    const email = normalizeEmail(event.email);
    const { emailHash } = contactHashes(deps.encryptor, { email, phone: null });
    return emailHash ? findSequenceLeadByEmailHash(deps.db, emailHash) : null;
  }

  return (
    new Hono()
      // ── Twilio ──
      .post('/twilio/sms', async (c) => {
        const params = await verifiedTwilioForm(c);
        const sid = one(params.MessageSid) ?? one(params.SmsSid);
        const from = one(params.From);
        const twiml = () => c.body(twimlEmptyResponse(), 200, { 'content-type': TWIML_CONTENT_TYPE });
        if (!sid || !from) throw new ApiError(400, 'invalid_request', 'An inbound message needs MessageSid and From');
        const { phoneHash } = contactHashes(deps.encryptor, { phone: from, email: null });
        const lead = phoneHash ? await findSequenceLeadByPhoneHash(deps.db, phoneHash) : null;
        if (!lead) {
          // Not a lead we wrote to: nothing to store. Twilio still gets its TwiML (an error would make it retry).
          console.warn(`[webhooks] inbound SMS ${sid} from a number with no sequence; ignored`);
          return twiml();
        }
        const media = Number(one(params.NumMedia) ?? '0');
        const text = one(params.Body) ?? '';
        const body = text !== '' ? text : media > 0 ? `(${media} attachment${media === 1 ? '' : 's'})` : '';
        await deliverReply(lead, 'sms', { idempotencyKey: `twilio/${sid}`, providerMessageId: sid, body });
        return twiml();
      })

      .post('/twilio/status', async (c) => {
        const params = await verifiedTwilioForm(c);
        const sid = one(params.MessageSid) ?? one(params.SmsSid);
        const status = TWILIO_STATUSES[(one(params.MessageStatus) ?? one(params.SmsStatus) ?? '').toLowerCase()];
        // An unknown message (not ours, or its row not written yet) or status is acknowledged and ignored.
        if (!sid || !status) return c.body(null, 204);
        const message = await findLeadMessageByProviderId(deps.db, sid);
        if (!message) return c.body(null, 204);
        const errorCode = one(params.ErrorCode);
        await advanceMessageStatus(
          deps.db,
          message.orgId,
          message.id,
          status,
          errorCode ? `twilio:${errorCode}` : null,
          now(),
        );
        return c.body(null, 204);
      })

      // ── SendGrid ──
      .post('/sendgrid/events', async (c) => {
        const raw = await c.req.text();
        const verified = verifySendGridEventSignature(
          config.email.sendgridEventWebhookPublicKey,
          raw,
          c.req.header(SENDGRID_SIGNATURE_HEADER),
          c.req.header(SENDGRID_TIMESTAMP_HEADER),
        );
        if (!verified) throw forbiddenSignature('SendGrid');
        let events: SendGridEvent[];
        try {
          events = parseSendGridEvents(raw);
        } catch (err) {
          if (err instanceof SendGridPayloadError) throw new ApiError(400, 'invalid_request', err.message);
          throw err;
        }
        let updated = 0;
        const optedOut = new Set<string>();
        for (const event of events) {
          const status = SENDGRID_STATUSES[event.event];
          const messageId = event.customArgs.message_id;
          if (status && messageId && isUuid(messageId)) {
            const message = await findLeadMessageById(deps.db, messageId);
            if (message && message.direction === 'outbound') {
              const detail = [event.reason, event.status, event.type].filter(Boolean).join(' ') || null;
              const at = Number.isFinite(event.timestamp) ? new Date(event.timestamp * 1000) : now();
              if (await advanceMessageStatus(deps.db, message.orgId, message.id, status, detail, at)) updated += 1;
            }
          }
          if (SENDGRID_OPT_OUTS.has(event.event)) {
            const lead = await leadOfEvent(event);
            // One signal per lead per batch: SendGrid sends unsubscribe and group_unsubscribe together.
            if (lead && !optedOut.has(lead.leadId)) {
              await signalSequenceWithStart(deps, lead, optOutSignal, [
                { channel: 'email', source: `sendgrid:${event.event}` },
              ]);
              optedOut.add(lead.leadId);
            }
          }
        }
        return c.json({ received: events.length, updated, optOuts: optedOut.size });
      })

      .post(
        '/sendgrid/inbound/:secret',
        async (c, next) => {
          // The secret is the only proof Inbound Parse gives: anything else is a route that does not exist.
          if (!constantTimeEqual(c.req.param('secret') ?? '', config.email.sendgridInboundSecret))
            throw notFound('Route');
          await next();
        },
        inboundLimit,
        async (c) => {
          let email: InboundEmail;
          try {
            email = parseInboundParse(await c.req.formData());
          } catch (err) {
            if (err instanceof SendGridPayloadError) throw new ApiError(400, 'invalid_request', err.message);
            throw new ApiError(400, 'invalid_request', 'Inbound Parse posts multipart/form-data');
          }
          const lead = await leadOfEmail(email);
          if (!lead) {
            console.warn(`[webhooks] inbound email from an address with no sequence; ignored`);
            return c.json({ routed: false });
          }
          // The Message-ID is what a re-post of the same email repeats; without one, the content is.
          const key =
            email.messageIdHeader ??
            createHash('sha256').update(`${email.from.email}\n${email.subject}\n${email.text}`).digest('hex');
          const body = email.replyText || email.text.trim() || email.subject;
          const result = await deliverReply(lead, 'email', {
            idempotencyKey: `sendgrid/${key}`,
            providerMessageId: email.messageIdHeader,
            body,
            subject: email.subject || null,
          });
          return c.json({ routed: true, messageId: result.messageId, duplicate: result.duplicate });
        },
      )
  );
}
