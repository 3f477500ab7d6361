/**
 * LeadPulse's workflow contract: the training workflow's ID, input and result, and the monthly schedule's ID.
 * The workflow is in workflows/leadpulse-training.ts; scoring is an activity called by lead intake.
 */
import type { GbtParams } from '../ml/types';

export const LEADPULSE_PRODUCT = 'leadpulse';

/** One training run per request key (a date for the schedule, a request id on demand). */
export const leadPulseTrainingWorkflowId = (orgId: string, key: string) => `leadpulse/train/${orgId}/${key}`;

/** The Temporal Schedule that retrains each organization's model monthly (operators pause/trigger it). */
export const leadPulseScheduleId = (orgId: string) => `leadpulse/train-monthly/${orgId}`;

export interface LeadPulseTrainingInput {
  orgId: string;
  trigger: 'manual' | 'schedule' | 'demo';
  /** Who asked (staff email or API key prefix), for the registry and audit log. */
  requestedBy?: string;
  /** Overrides of the trainer's defaults (tests use few rounds). */
  params?: Partial<GbtParams>;
}

export interface LeadPulseTrainingResult {
  modelId: string;
  version: number;
  promoted: boolean;
  /** Why it was (not) promoted, in words: "AUC 0.781 beats the promoted v3's 0.774 on the same holdout". */
  reason: string;
  auc: number;
  baselineAuc: number;
}

/** What the scoring activity returns (and the API answers). */
export interface LeadScore {
  /** 0-100; null when the organization has no promoted model yet. */
  score: number | null;
  bucket: ScoreBucket | null;
  modelVersion: number | null;
}

export const SCORE_BUCKETS = ['high_intent', 'medium_intent', 'low_intent'] as const;
export type ScoreBucket = (typeof SCORE_BUCKETS)[number];

/** Seed 000 5.2's buckets: high from 70, medium from 40. */
export function bucketFor(score: number): ScoreBucket {
  return score >= 70 ? 'high_intent' : score >= 40 ? 'medium_intent' : 'low_intent';
}
