/**
 * Lead intake: every captured lead passes through one workflow, `leads/intake/<leadId>`, started by whatever
 * captured it (today the LumaLeasing chat) with ParentClosePolicy.ABANDON so it outlives its starter.
 */
import { ParentClosePolicy, WorkflowIdReusePolicy, proxyActivities, startChild } from '@temporalio/workflow';
// @temporalio/common is sandbox-safe; the workflow package does not re-export this error class.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { LumaLeasingChatActivities } from '../activities/lumaleasing-chat';
import type { LeadIntakeInput, LeadIntakeResult } from './lumaleasing';
import { searchAttributePairs } from './search-attributes';
import { WEBHOOKS_PRODUCT, webhookEventWorkflow, webhookEventWorkflowId } from './webhooks';

// Reads the lead and decrypts its contact: database only, idempotent, retried until the database answers.
const leads = proxyActivities<LumaLeasingChatActivities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: ['LeadNotFound'],
  },
});

export async function leadIntakeWorkflow(input: LeadIntakeInput): Promise<LeadIntakeResult> {
  const { orgId, leadId } = input;
  const event = await leads.describeLeadEvent({ orgId, leadId });

  // The hand-off point for what follows a new lead (issue 5): LeadPulse scoring and the TourSpark follow-up
  // sequence start here, as children of this workflow, before or beside the lead.created event below.

  const summary = `lead.created ${leadId.slice(0, 8)} (${input.source})`;
  try {
    // Awaited: the child must have started before this run completes, or the start could be lost with it.
    await startChild(webhookEventWorkflow, {
      workflowId: webhookEventWorkflowId(event.id),
      args: [{ orgId, event }],
      // Deliveries retry for hours; the intake does not wait for them.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // The event id derives from the lead: one lead.created per lead, however often intake runs.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: searchAttributePairs({ orgId, product: WEBHOOKS_PRODUCT }),
      memo: { summary },
      staticSummary: summary,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { leadId, webhookEventId: event.id };
}
