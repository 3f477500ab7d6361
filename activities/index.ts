/**
 * Every activity the platform worker registers, merged from the product factories. Names must stay unique
 * across products: an activity's name is its wire identity in workflow histories.
 */
import { createCrmImportActivities, type CrmImportActivityDeps } from './crm-import';
import { createDataLakeActivities, type DataLakeActivityDeps } from './data-lake';
import { createLumaLeasingChatActivities, type LumaLeasingChatActivityDeps } from './lumaleasing-chat';
import { createLumaLeasingDocumentActivities, type LumaLeasingDocumentActivityDeps } from './lumaleasing-documents';
import { createLeadPulseActivities, type LeadPulseActivityDeps } from './leadpulse';
import { createTourSparkActivities, type TourSparkActivityDeps } from './tourspark';
import { createWebhookActivities, type WebhookActivityDeps } from './webhooks';

export type PlatformActivityDeps = WebhookActivityDeps &
  DataLakeActivityDeps &
  CrmImportActivityDeps &
  LumaLeasingDocumentActivityDeps &
  LumaLeasingChatActivityDeps &
  TourSparkActivityDeps &
  LeadPulseActivityDeps;

export function createPlatformActivities(deps: PlatformActivityDeps) {
  return {
    ...createWebhookActivities(deps),
    ...createDataLakeActivities(deps),
    ...createCrmImportActivities(deps),
    ...createLumaLeasingDocumentActivities(deps),
    ...createLumaLeasingChatActivities(deps),
    ...createTourSparkActivities(deps),
    ...createLeadPulseActivities(deps),
  };
}

export type PlatformActivities = ReturnType<typeof createPlatformActivities>;
