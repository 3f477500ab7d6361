/**
 * Every activity the platform worker registers, merged from the product factories. Names must stay unique
 * across products: an activity's name is its wire identity in workflow histories.
 */
import { createWebhookActivities, type WebhookActivityDeps } from './webhooks';

export type PlatformActivityDeps = WebhookActivityDeps;

export function createPlatformActivities(deps: PlatformActivityDeps) {
  return {
    ...createWebhookActivities(deps),
  };
}

export type PlatformActivities = ReturnType<typeof createPlatformActivities>;
