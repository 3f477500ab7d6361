import type { Transaction } from './client';
import { auditLog, type ActorType } from './schema';

export interface AuditActor {
  actorType: ActorType;
  actorId: string;
  actorLabel: string;
}

export interface AuditRecord {
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

/** Records a mutation inside the tenant transaction that made it, so the change and its record commit together. */
export async function recordAudit(tx: Transaction, orgId: string, actor: AuditActor, record: AuditRecord) {
  await tx.insert(auditLog).values({ orgId, ...actor, ...record, details: record.details ?? {} });
}

export const SYSTEM_ACTOR = (component: string): AuditActor => ({
  actorType: 'system',
  actorId: component,
  actorLabel: component,
});
