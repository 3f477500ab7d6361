import { PRODUCT_IDS, type ProductId } from '../db/schema/organizations';

export interface ProductInfo {
  label: string;
  /** One line for the sidebar tooltip and the filtered Workflows page. */
  description: string;
}

/** Names people know the products by; the keys are the `Product` search attribute values. */
export const PRODUCTS: Record<ProductId, ProductInfo> = {
  'data-lake': { label: 'Data Lake ETL', description: 'Ad-platform and CRM syncs into the unified daily fact table' },
  'multichannel-bi': { label: 'MultiChannel BI', description: 'Cross-channel performance analytics' },
  lumaleasing: { label: 'LumaLeasing', description: 'Leasing assistant: document ingest and chat conversations' },
  tourspark: { label: 'TourSpark', description: 'Tour follow-up sequences per lead' },
  leadpulse: { label: 'LeadPulse', description: 'Lead scoring model training and scoring' },
  marketvision: { label: 'MarketVision 360', description: 'Competitor pricing scrapes and change alerts' },
  forgestudio: { label: 'ForgeStudio', description: 'Content drafts and approvals' },
  socialpilot: { label: 'SocialPilot X', description: 'Scheduled social publishing and token refresh' },
  reviewflow: { label: 'ReviewFlow AI', description: 'Review triage and reply approvals' },
  churnsignal: { label: 'ChurnSignal', description: 'Resident churn-risk scoring' },
};

/** Products with their own console pages; the others link to their runs on the Workflows page. */
const PRODUCT_PAGES: Partial<Record<ProductId, string>> = {
  'data-lake': '/admin/data-lake',
  'multichannel-bi': '/admin/analytics',
  lumaleasing: '/admin/lumaleasing',
  tourspark: '/admin/leads',
  leadpulse: '/admin/leadpulse',
  reviewflow: '/admin/reviews',
};

/** Where a product's sidebar link goes. */
export function productHref(id: ProductId): string {
  return PRODUCT_PAGES[id] ?? `/admin/workflows?product=${encodeURIComponent(id)}`;
}

/** Platform workflows carry these `Product` values; they are not sellable products but still need a name. */
const PLATFORM_LABELS: Record<string, string> = {
  webhooks: 'Webhooks',
  platform: 'Platform',
  'data-deletion': 'Data deletion',
};

export function isProductId(value: string): value is ProductId {
  return (PRODUCT_IDS as readonly string[]).includes(value);
}

export function productLabel(id: string | null | undefined): string {
  if (!id) return '—';
  if (isProductId(id)) return PRODUCTS[id].label;
  return PLATFORM_LABELS[id] ?? id;
}

/** The organization's enabled products in catalogue order, unknown values dropped. */
export function enabledProductsInOrder(enabled: readonly string[]): ProductId[] {
  return PRODUCT_IDS.filter((id) => enabled.includes(id));
}
