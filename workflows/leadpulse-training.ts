/**
 * LeadPulse training: train a model version on the organization's lead history (one activity: extract →
 * boost trees → evaluate against the logistic baseline and the promoted model on the same holdout → export
 * ONNX → register a candidate), then decide whether it replaces the promoted model. Started on demand
 * (`leadpulse/train/<orgId>/<key>`) and by the monthly Schedule (`leadpulse/train-monthly/<orgId>-<time>`).
 */
import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { LeadPulseActivities } from '../activities/leadpulse';
import type { LeadPulseTrainingInput, LeadPulseTrainingResult } from './leadpulse';

export type LeadPulseTrainingStage = 'training' | 'deciding' | 'done';

/** Where the run is, for operators in the Web UI and the admin page. */
export const leadPulseTrainingStageQuery = defineQuery<LeadPulseTrainingStage>('stage');

// Minutes of CPU on a long history. The trainer runs synchronously, so no heartbeat can be sent while it boosts:
// the heartbeat timeout is what a crashed worker costs before another attempt starts, sized above a normal run.
// Transient failures (the database away, a worker lost mid-run) retry with backoff from a few seconds; too little
// history or an ONNX export that does not match the trainer fails the same way every time, so those are not retried.
const training = proxyActivities<LeadPulseActivities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '15m',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 3,
    maximumInterval: '10m',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['InsufficientTrainingData', 'OnnxParity'],
  },
});

// One transaction on the registry: retried until the database answers.
const registry = proxyActivities<LeadPulseActivities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: ['ModelNotFound'],
  },
});

export async function leadPulseTrainingWorkflow(input: LeadPulseTrainingInput): Promise<LeadPulseTrainingResult> {
  let stage: LeadPulseTrainingStage = 'training';
  setHandler(leadPulseTrainingStageQuery, () => stage);

  const trained = await training.trainLeadPulseModel({
    orgId: input.orgId,
    // The registry's idempotency key: a retried attempt finds the version its predecessor registered.
    workflowId: workflowInfo().workflowId,
    params: input.params,
  });

  stage = 'deciding';
  const decision = await registry.promoteLeadPulseModel({ orgId: input.orgId, modelId: trained.modelId });

  stage = 'done';
  return {
    modelId: trained.modelId,
    version: trained.version,
    promoted: decision.promoted,
    reason: decision.reason,
    auc: trained.auc,
    baselineAuc: trained.baselineAuc,
  };
}
