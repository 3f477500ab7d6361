/**
 * Every activity the platform worker registers, merged from the product factories. Names must stay unique
 * across products: an activity's name is its wire identity in workflow histories.
 */
import { createCrmImportActivities, type CrmImportActivityDeps } from './crm-import';
import { createDataLakeActivities, type DataLakeActivityDeps } from './data-lake';
import { createLumaLeasingChatActivities, type LumaLeasingChatActivityDeps } from './lumaleasing-chat';
import { createLumaLeasingDocumentActivities, type LumaLeasingDocumentActivityDeps } from './lumaleasing-documents';
import { createLeadPulseActivities, type LeadPulseActivityDeps } from './leadpulse';
import { createReviewFlowActivities, type ReviewFlowActivityDeps } from './reviewflow';
import { createTourSparkActivities, type TourSparkActivityDeps } from './tourspark';
import { createWebhookActivities, type WebhookActivityDeps } from './webhooks';

export type PlatformActivityDeps = WebhookActivityDeps &
  DataLakeActivityDeps &
  CrmImportActivityDeps &
  LumaLeasingDocumentActivityDeps &
  LumaLeasingChatActivityDeps &
  TourSparkActivityDeps &
  LeadPulseActivityDeps &
  ReviewFlowActivityDeps;

export function createPlatformActivities(deps: PlatformActivityDeps) {
  return {
    ...createWebhookActivities(deps),
    ...createDataLakeActivities(deps),
    ...createCrmImportActivities(deps),
    ...createLumaLeasingDocumentActivities(deps),
    ...createLumaLeasingChatActivities(deps),
    ...createTourSparkActivities(deps),
    ...createLeadPulseActivities(deps),
    ...createReviewFlowActivities(deps),
  };
}

export type PlatformActivities = ReturnType<typeof createPlatformActivities>;
