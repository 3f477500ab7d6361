/**
 * Property documents for the chat tests, written the way leasing offices write them (headings, bullets,
 * fee tables as lines), for two properties whose facts differ everywhere — so an answer that leaks the other
 * property's documents, or an invented one, is visible. `fixtureChunks` cuts them into chunks at headings
 * (what the ingestion's splitter does for documents this short); `insertFixtureDocuments` stores them as
 * current, embedded chunks, bypassing ingestion (tested on its own in workflows/lumaleasing-documents.test.ts).
 */
import { createHash } from 'node:crypto';
import type { Database } from '../db/client';
import { documents, lumaleasingDocuments, type DocumentChunkMetadata } from '../db/schema/lumaleasing';
import type { Embedder } from '../integrations/embeddings';

export interface FixtureDocument {
  title: string;
  filename: string;
  /** Pages of text (a PDF has several; Markdown one, with page null). */
  pages: string[];
  pdf?: boolean;
}

export const RESERVE_DOCUMENTS: FixtureDocument[] = [
  {
    title: 'Pet Policy',
    filename: 'pet-policy.pdf',
    pdf: true,
    pages: [
      `# Pet Policy

The Reserve at Sandpoint is a pet-friendly community. We welcome up to two pets per apartment: dogs and cats only.

## Weight and breed limits

Dogs may weigh up to 75 pounds each at full grown weight.
The following breeds are restricted:
- Pit Bull Terriers
- Rottweilers
- Doberman Pinschers
Assistance animals are not pets and are exempt from breed and weight limits.`,
      `## Pet fees

- Pet deposit: $300 per pet, refundable at move-out if there is no pet damage.
- Pet rent: $35 per month per pet.
- There is no non-refundable pet fee.

## Rules for pet owners

Pets must be leashed in all common areas. Please pick up after your pet; waste stations are located along the walking paths. Our fenced dog park next to Building C is open from 7 AM to 9 PM.`,
    ],
  },
  {
    title: 'Parking Guide',
    filename: 'parking.md',
    pages: [
      `# Parking

Each apartment includes one unreserved surface parking space at no extra cost.

## Garages and reserved spaces

Detached garages are available for $125 per month, and covered carport spaces for $40 per month. Ask the leasing office to join the waitlist.

## Guest parking

Guests may park in the spaces marked "Visitor" for up to 48 hours. Vehicles parked longer, or without current registration, may be towed at the owner's expense.

## Electric vehicles

Four EV charging stations are available near the clubhouse, first come, first served.`,
    ],
  },
  {
    title: 'Fees and Deposits',
    filename: 'fees-and-deposits.txt',
    pages: [
      `Fees and Deposits

Application fee: $50 per adult applicant (18 and older), non-refundable.
Administrative fee: $200, due at lease signing.
Security deposit: $500 with approved credit; up to one month's rent otherwise.
Late fee: $75 if rent is not paid by the 5th of the month.
Returned payment fee: $35.
Rent is due on the 1st of each month and can be paid online through the resident portal.`,
    ],
  },
  {
    title: 'Amenities',
    filename: 'amenities.html',
    pages: [
      `Amenities

Residents of The Reserve enjoy a resort-style saltwater pool with a sundeck, open from Memorial Day to Labor Day, 8 AM to 10 PM.
Our 24-hour fitness center has free weights, cardio machines and a yoga studio.
The clubhouse offers a coworking lounge with free Wi-Fi, a coffee bar and a package room with smart lockers.
Every apartment has a full-size washer and dryer, a private balcony and central air conditioning.`,
    ],
  },
  {
    title: 'Office Hours and Contact',
    filename: 'office-hours.md',
    pages: [
      `# Leasing Office

The leasing office is open Monday through Friday from 9 AM to 6 PM, Saturday from 10 AM to 5 PM, and closed on Sunday.
Self-guided tours are available seven days a week from 8 AM to 7 PM; book one on our website.
For maintenance emergencies after hours, call the emergency line at (208) 555-0199.`,
    ],
  },
  {
    title: 'Lease Terms',
    filename: 'lease-terms.md',
    pages: [
      `# Lease Terms

We offer lease terms of 6, 12 and 15 months. Leases shorter than 12 months carry a $100 monthly short-term premium.

## Breaking a lease early

To end a lease early, give 60 days' written notice and pay an early termination fee equal to two months' rent.

## Renewals

Renewal offers are sent 90 days before the lease ends. Subletting is not permitted.

## Utilities

Water, sewer and trash are billed back monthly at a flat $65. Residents set up electricity with Avista and internet with the provider of their choice.`,
    ],
  },
];

export const HARBOR_DOCUMENTS: FixtureDocument[] = [
  {
    title: 'Harbor Pet Policy',
    filename: 'pets.md',
    pages: [
      `# Pets at Harbor View Lofts

Harbor View Lofts allows one cat per loft. Dogs are not permitted.
Cat deposit: $500, refundable. Cat rent: $25 per month.`,
    ],
  },
  {
    title: 'Harbor Parking',
    filename: 'parking.md',
    pages: [
      `# Parking

Harbor View Lofts has a secured underground garage. A reserved garage space costs $150 per month; there is no free parking.
Street parking nearby is metered from 8 AM to 6 PM.`,
    ],
  },
];

export interface FixtureChunk {
  content: string;
  metadata: DocumentChunkMetadata;
}

/** Chunks at "## " headings (each chunk keeps its heading line), one page at a time. */
export function fixtureChunks(doc: FixtureDocument): FixtureChunk[] {
  const chunks: FixtureChunk[] = [];
  for (const [i, page] of doc.pages.entries()) {
    const sections = page.split(/\n(?=## )/);
    for (const section of sections) {
      const heading = /^#{1,2}\s+(.+)$/m.exec(section)?.[1] ?? null;
      chunks.push({
        content: section.trim(),
        metadata: { source: doc.title, page: doc.pdf ? i + 1 : null, heading },
      });
    }
  }
  return chunks;
}

/**
 * Stores documents as an ingestion would leave them: a `lumaleasing_documents` row with current_version 1 and
 * its embedded chunks. Runs as the owner (no RLS), so any org can be seeded. Returns the document ids by title.
 */
export async function insertFixtureDocuments(
  db: Database,
  embedder: Embedder,
  target: { orgId: string; propertyId: string },
  docs: FixtureDocument[],
): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const doc of docs) {
    const [row] = await db
      .insert(lumaleasingDocuments)
      .values({
        orgId: target.orgId,
        propertyId: target.propertyId,
        title: doc.title,
        filename: doc.filename,
        latestVersion: 1,
        currentVersion: 1,
        createdBy: 'test',
      })
      .returning({ id: lumaleasingDocuments.id });
    ids[doc.title] = row!.id;
    const chunks = fixtureChunks(doc);
    const vectors = await embedder.embed(chunks.map((c) => c.content));
    await db.insert(documents).values(
      chunks.map((chunk, index) => ({
        orgId: target.orgId,
        propertyId: target.propertyId,
        documentId: row!.id,
        version: 1,
        chunkIndex: index,
        content: chunk.content,
        contentSha256: createHash('sha256').update(chunk.content).digest('hex'),
        tokenCount: chunk.content.split(/\s+/).length,
        metadata: chunk.metadata,
        embedding: vectors[index]!,
      })),
    );
  }
  return ids;
}
