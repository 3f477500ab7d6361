/** Every workflow the platform workers run (the bundle's entry point). Exported names are workflow types. */
export { webhookDeliveryWorkflow, webhookEventWorkflow } from './webhooks';
export { adBackfillWorkflow, adSyncWorkflow, crmImportWorkflow } from './data-lake';
export { documentIngestionWorkflow } from './lumaleasing-documents';
export { conversationWorkflow } from './lumaleasing-conversation';
export { leadIntakeWorkflow } from './leads';
export { leadPulseTrainingWorkflow } from './leadpulse-training';
export { tourSparkSequenceWorkflow } from './tourspark-sequence';
export { reviewTriageWorkflow } from './reviewflow-triage';
export { reviewPollWorkflow } from './reviewflow-polling';
