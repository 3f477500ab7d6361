// @temporalio/common is the SDK's shared, sandbox-safe package (the workflow package does not re-export these).
import { defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common';

/**
 * The custom search attributes every P11 workflow carries (registered on the dev server by temporal/ and in
 * production by `temporal operator search-attribute create`). Operators filter on them in the Web UI, e.g.
 * `OrgId = "…" AND Product = "webhooks"`; the admin UI lists an organization's runs with `OrgId`.
 */
export const OrgId = defineSearchAttributeKey('OrgId', 'KEYWORD');
export const PropertyId = defineSearchAttributeKey('PropertyId', 'KEYWORD');
export const LeadId = defineSearchAttributeKey('LeadId', 'KEYWORD');
export const Product = defineSearchAttributeKey('Product', 'KEYWORD');

export const SEARCH_ATTRIBUTE_KEYS = [OrgId, PropertyId, LeadId, Product] as const;

export interface WorkflowLabels {
  orgId: string;
  product: string;
  propertyId?: string | null;
  leadId?: string | null;
}

/** The search-attribute pairs for a workflow start (client or child). */
export function searchAttributePairs(labels: WorkflowLabels): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: OrgId, value: labels.orgId },
    { key: Product, value: labels.product },
  ];
  if (labels.propertyId) pairs.push({ key: PropertyId, value: labels.propertyId });
  if (labels.leadId) pairs.push({ key: LeadId, value: labels.leadId });
  return pairs;
}

/** The memo every workflow carries: one line a person can read in the Web UI's run list. */
export interface WorkflowMemo {
  summary: string;
}
