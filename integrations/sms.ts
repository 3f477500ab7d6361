/**
 * What TourSpark needs from an SMS provider. The implementation is Twilio's official SDK
 * (integrations/twilio.ts), pointed at the sandbox emulator when no credentials are configured.
 */
export interface SmsMessage {
  /** E.164. */
  to: string;
  body: string;
  /** Where the provider posts delivery status (queued → sent → delivered | undelivered | failed). */
  statusCallbackUrl?: string;
}

export interface SentSms {
  /** Twilio's Message SID (SM...). */
  providerMessageId: string;
  /** The provider's status word at that moment: accepted, queued, sent, delivered, ... */
  status: string;
}

export interface SmsSender {
  send(message: SmsMessage): Promise<SentSms>;
  /**
   * The provider's own record of a message to `to` with exactly `body`, created at or after `since`: how a send
   * whose outcome is unknown (the process died after calling the provider) is reconciled instead of repeated.
   */
  findSent(query: { to: string; body: string; since: Date }): Promise<SentSms | null>;
}

/**
 * The provider refused the message for good (Twilio 4xx: 21610 the recipient opted out, 21211/21614 not a
 * valid or not a mobile number, ...). Retrying cannot help; the send activity records it and moves on.
 */
export class SmsRejectedError extends Error {
  constructor(
    message: string,
    /** The provider's error code (Twilio's numeric code), e.g. 21610. */
    readonly code: number | null,
  ) {
    super(message);
    this.name = 'SmsRejectedError';
  }
}

/** Twilio's code for "Attempt to send to unsubscribed recipient" (the number replied STOP). */
export const TWILIO_UNSUBSCRIBED_RECIPIENT = 21610;
