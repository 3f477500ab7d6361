import type { Role } from '../db/schema';

/**
 * What a caller may do. Staff get permissions from their role; API keys from their scopes (a subset of
 * the same names). Checked per route with `requirePermission`.
 */
export const PERMISSIONS = [
  'org:read',
  'org:write',
  'properties:read',
  'properties:write',
  'members:read',
  'members:write',
  'api_keys:read',
  'api_keys:write',
  'audit:read',
  'workflows:read',
  'workflows:write',
  'webhooks:read',
  'webhooks:write',
  'approvals:write',
  'data_lake:read',
  'data_lake:write',
  'analytics:read',
  'lumaleasing:read',
  'lumaleasing:write',
  'lumaleasing:reply',
  'leads:read',
  'leads:write',
  'leads:reply',
  'tourspark:write',
  'leadpulse:read',
  'leadpulse:write',
  'reviews:read',
  'reviews:write',
  'reviewflow:write',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Scopes an API key may carry: keys never manage people or other keys. */
export const API_KEY_SCOPES = PERMISSIONS.filter(
  (p) => !p.startsWith('members:') && !p.startsWith('api_keys:'),
) as Exclude<Permission, `members:${string}` | `api_keys:${string}`>[];

const VIEWER: Permission[] = [
  'org:read',
  'properties:read',
  'workflows:read',
  'webhooks:read',
  'data_lake:read',
  'analytics:read',
  'lumaleasing:read',
  'leads:read',
  'leadpulse:read',
  'reviews:read',
];
// lumaleasing:reply (take over, answer visitors, hand back) is front-desk work; documents and the bot's
// persona (lumaleasing:write) are settings, so admin only.
// leads:reply (message a lead, pause/resume their sequence, record a booked tour or an opt-out) is front-desk
// work too. leads:write creates leads (external systems' API keys); sequences (tourspark:write) and model
// training and promotion (leadpulse:write) are settings.
// ReviewFlow: approving, rejecting or regenerating a reply and resolving a ticket is approvals:write (managers);
// reviews:write submits reviews (external systems' API keys); reviewflow:write (auto-reply, SLA, personas,
// Business Profile connections) is settings.
const MANAGER: Permission[] = [
  ...VIEWER,
  'workflows:write',
  'approvals:write',
  'members:read',
  'lumaleasing:reply',
  'leads:reply',
];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(VIEWER),
  // Managers run the day to day (start workflows, approve content) but change no settings.
  manager: new Set(MANAGER),
  admin: new Set(PERMISSIONS),
};
