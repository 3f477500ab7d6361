/**
 * The sandbox SendGrid emulator's Event Webhook signing key (ECDSA P-256), generated once for this project.
 * Not a secret: it signs only emulator events, and config.ts carries the public half as the default
 * SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY when no SendGrid key is configured.
 */
export const SANDBOX_SENDGRID_EVENT_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgC4bH2Ano1g8LRXEL
uJrf/9a2wvbFkepuze2rFXmCSy2hRANCAAQ2vJqr9z0+rga+/rRctbxUC77PJ/BS
QmnqzqJTu+F/1Jq1HZSZ2lKoYFk0zLgj/f4bjtyuKklWx5X5RG1JT0GP
-----END PRIVATE KEY-----`;
