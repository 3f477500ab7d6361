/**
 * Slack incoming webhooks over Slack's official SDK (@slack/webhook). The webhook URL is the whole credential;
 * in sandbox mode it points at the emulator (`<sandbox>/slack/services/...`).
 */
import { IncomingWebhook } from '@slack/webhook';

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

export interface SlackNotifier {
  post(webhookUrl: string, message: SlackMessage): Promise<void>;
}

/** Slack refused the webhook (revoked, channel archived): retrying will not help. */
export class SlackWebhookError extends Error {
  override name = 'SlackWebhookError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export function createSlackNotifier(): SlackNotifier {
  return {
    async post(webhookUrl, message) {
      const webhook = new IncomingWebhook(webhookUrl, { timeout: 10_000 });
      try {
        await webhook.send({ text: message.text, ...(message.blocks ? { blocks: message.blocks as never } : {}) });
      } catch (err) {
        const status = (err as { original?: { response?: { status?: number } } }).original?.response?.status;
        const permanent = status !== undefined && status >= 400 && status < 500 && status !== 429;
        throw new SlackWebhookError(`Slack webhook: ${(err as Error).message}`, permanent);
      }
    },
  };
}
