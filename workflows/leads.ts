/**
 * Lead intake: every captured lead passes through one workflow, `leads/intake/<leadId>`, started by whatever
 * captured it (the leads API, the LumaLeasing chat) with ParentClosePolicy.ABANDON so it outlives its starter.
 * It scores the lead (LeadPulse), starts its TourSpark follow-up sequence when the organization has TourSpark
 * and the property's sequence is on, and publishes lead.created.
 */
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  log,
  patched,
  proxyActivities,
  startChild,
} from '@temporalio/workflow';
// @temporalio/common is sandbox-safe; the workflow package does not re-export this error class.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { LumaLeasingChatActivities } from '../activities/lumaleasing-chat';
import type { TourSparkActivities } from '../activities/tourspark';
import type { LeadScore } from './leadpulse';
import type { LeadIntakeInput, LeadIntakeResult } from './lumaleasing';
import { searchAttributePairs } from './search-attributes';
import { TOURSPARK_PRODUCT, tourSparkWorkflowId } from './tourspark';
import { tourSparkSequenceWorkflow } from './tourspark-sequence';
import { WEBHOOKS_PRODUCT, webhookEventWorkflow, webhookEventWorkflowId } from './webhooks';

/** LeadPulse's scoring activity (activities/leadpulse.ts), as intake calls it. */
interface ScoringActivities {
  scoreLead(input: { orgId: string; leadId: string }): Promise<LeadScore>;
}

// Reads the lead and decrypts its contact: database only, idempotent, retried until the database answers.
const leads = proxyActivities<LumaLeasingChatActivities & Pick<TourSparkActivities, 'checkSequenceEligibility'>>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: ['LeadNotFound'],
  },
});

// Scoring reads the promoted model and the lead. A few attempts: a lead must get its follow-up and its
// lead.created even when scoring is broken; it is scored again by the next intake or on demand.
const scoring = proxyActivities<ScoringActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

const NO_SCORE: LeadScore = { score: null, bucket: null, modelVersion: null };

export async function leadIntakeWorkflow(input: LeadIntakeInput): Promise<LeadIntakeResult> {
  const { orgId, leadId } = input;
  const event = await leads.describeLeadEvent({ orgId, leadId });

  let score: LeadScore = NO_SCORE;
  let sequenceWorkflowId: string | null = null;
  // Intakes that were running when scoring and sequences were added finish the way they started.
  if (patched('intake-scoring-and-sequence')) {
    try {
      score = await scoring.scoreLead({ orgId, leadId });
    } catch (err) {
      log.warn('Lead scoring failed; the lead goes on unscored', { leadId, error: String(err) });
    }

    const eligibility = await leads.checkSequenceEligibility({ orgId, leadId });
    if (eligibility.start) {
      sequenceWorkflowId = tourSparkWorkflowId(leadId);
      const summary = `Follow-up of lead ${leadId.slice(0, 8)} (${input.source})`;
      try {
        // Awaited: the child must have started before this run completes, or the start could be lost with it.
        await startChild(tourSparkSequenceWorkflow, {
          workflowId: sequenceWorkflowId,
          args: [{ orgId, leadId, propertyId: input.propertyId }],
          // The sequence runs for days; intake is done once it has started.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          // One sequence per lead, ever: a retried or replayed intake must not start a second follow-up.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: searchAttributePairs({
            orgId,
            product: TOURSPARK_PRODUCT,
            propertyId: input.propertyId,
            leadId,
          }),
          memo: { summary },
          staticSummary: summary,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    } else {
      log.info('No TourSpark sequence for this lead', { leadId, reason: eligibility.reason });
    }
  }

  const summary = `lead.created ${leadId.slice(0, 8)} (${input.source})`;
  try {
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
  return { leadId, webhookEventId: event.id, score, sequenceWorkflowId };
}
