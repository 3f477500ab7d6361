/**
 * Slack incoming webhooks over Slack's official SDK (@slack/webhook). The webhook URL is the whole credential;
 * in sandbox mode it points at the emulator (`<sandbox>/slack/services/...`).
 */
import { IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

export interface SlackNotifier {
  post(webhookUrl: string, message: SlackMessage): Promise<void>;
}

/**
 * Slack did not take the message. `permanent` when Slack refused the webhook itself (revoked, channel archived,
 * bad payload: a 4xx other than 429): retrying cannot help, someone has to fix the URL in the settings.
 */
export class SlackWebhookError extends Error {
  override name = 'SlackWebhookError';
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

export function createSlackNotifier(options: { timeoutMs?: number } = {}): SlackNotifier {
  const timeout = options.timeoutMs ?? 10_000;
  return {
    async post(webhookUrl, message) {
      let url: URL;
      try {
        url = new URL(webhookUrl);
      } catch {
        throw new SlackWebhookError('Slack webhook URL is not a URL', true);
      }
      // The SDK retries nothing by default: Temporal's retry policy owns retries of a failed notification.
      const webhook = new IncomingWebhook(url.toString(), { timeout });
      try {
        await webhook.send({ text: message.text, ...(message.blocks ? { blocks: message.blocks as never } : {}) });
      } catch (err) {
        if (err instanceof IncomingWebhookHTTPError) {
          const status = err.statusCode;
          const permanent = status >= 400 && status < 500 && status !== 429;
          const reason = typeof err.body === 'string' && err.body ? err.body.slice(0, 200) : err.statusMessage;
          throw new SlackWebhookError(`Slack webhook: ${status} ${reason}`, permanent, status);
        }
        // No answer (network, timeout): transient.
        throw new SlackWebhookError(`Slack webhook: ${(err as Error).message}`, false);
      }
    },
  };
}
