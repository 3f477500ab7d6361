/**
 * Every activity the platform worker registers, merged from the product factories. Names must stay unique
 * across products: an activity's name is its wire identity in workflow histories.
 */
import { createCrmImportActivities, type CrmImportActivityDeps } from './crm-import';
import { createDataLakeActivities, type DataLakeActivityDeps } from './data-lake';
import { createWebhookActivities, type WebhookActivityDeps } from './webhooks';

export type PlatformActivityDeps = WebhookActivityDeps & DataLakeActivityDeps & CrmImportActivityDeps;

export function createPlatformActivities(deps: PlatformActivityDeps) {
  return {
    ...createWebhookActivities(deps),
    ...createDataLakeActivities(deps),
    ...createCrmImportActivities(deps),
  };
}

export type PlatformActivities = ReturnType<typeof createPlatformActivities>;
