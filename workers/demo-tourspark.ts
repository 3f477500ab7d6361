/**
 * TourSpark's part of `npm start` in sandbox mode: the emulated Twilio Messaging Service and SendGrid account
 * are configured the way an operator configures the real consoles, so inbound SMS, delivery callbacks, email
 * events and email replies reach this API's webhooks.
 */
import type { Config } from '../config';

export async function pointSandboxWebhooksAt(sandboxUrl: string, config: Config): Promise<void> {
  const put = async (path: string, body: unknown) => {
    const res = await fetch(`${sandboxUrl}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sandbox ${path} → ${res.status} ${await res.text()}`);
  };
  // Twilio Console → Messaging Service → Integration → "Send a webhook".
  await put('/twilio/_config', { inboundRequestUrl: `${config.publicUrl}/webhooks/twilio/sms` });
  // SendGrid → Settings → Mail Settings → Event Webhook, and Inbound Parse for the reply domain.
  await put('/sendgrid/_config', {
    eventWebhookUrl: `${config.publicUrl}/webhooks/sendgrid/events`,
    inboundParseUrl: `${config.publicUrl}/webhooks/sendgrid/inbound/${config.email.sendgridInboundSecret}`,
  });
}
