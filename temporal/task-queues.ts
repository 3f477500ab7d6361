/**
 * Task queues, versioned so an incompatible worker change can move to a new queue while old runs drain.
 * One Worker per queue (workers/); a product with heavy or bursty work gets its own queue so it cannot
 * starve the others.
 */
export const TASK_QUEUES = {
  /** Platform work: webhook fan-out and delivery, notifications. */
  platform: 'p11-platform-v1',
  /** Data Lake syncs (scheduled, manual) and CRM imports. */
  etl: 'p11-etl-v1',
  /**
   * Backfill months: long, bulky and bursty. Their own queue (and Worker, with its own slots) so one client's
   * three-year backfill never delays anyone's daily sync.
   */
  etlBackfill: 'p11-etl-backfill-v1',
  /**
   * LumaLeasing conversations: a visitor waits on every answer, so chat never queues behind anything else,
   * including document ingestion.
   */
  lumaleasingChat: 'p11-lumaleasing-chat-v1',
  /** Document ingestion: extraction and embedding batches, bursty when staff upload a folder of PDFs. */
  lumaleasingIngest: 'p11-lumaleasing-ingest-v1',
  /**
   * Lead intake and TourSpark sequences: thousands of mostly-sleeping workflows whose sends are small API
   * calls; their own queue so a burst of new leads (a CRM import) never delays chat or syncs.
   */
  tourspark: 'p11-tourspark-v1',
  /**
   * ReviewFlow triage and polling: mostly-waiting workflows (approvals take hours) whose activities are short
   * API and LLM calls; their own queue so a poll that finds hundreds of reviews never delays leads or chat.
   */
  reviewflow: 'p11-reviewflow-v1',
  /** LeadPulse training: CPU-bound minutes of tree boosting, one or two at a time. */
  leadpulse: 'p11-leadpulse-v1',
} as const;

export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];
