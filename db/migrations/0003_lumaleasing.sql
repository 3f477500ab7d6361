CREATE TABLE "chat_conversations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"workflow_id" text NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"mode" text DEFAULT 'ai' NOT NULL,
	"taken_over_by" uuid,
	"taken_over_by_name" text,
	"taken_over_at" timestamp with time zone,
	"visitor_token_hash" text NOT NULL,
	"page_url" text,
	"lead_id" uuid,
	"message_count" integer DEFAULT 0 NOT NULL,
	"unread_count" integer DEFAULT 0 NOT NULL,
	"last_message_at" timestamp with time zone,
	"last_message_preview" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "chat_conversations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "chat_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"role" text NOT NULL,
	"content" text NOT NULL,
	"citations" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"declined" boolean DEFAULT false NOT NULL,
	"top_similarity" real,
	"author" text,
	"staff_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_messages" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "documents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"document_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"chunk_index" integer NOT NULL,
	"content" text NOT NULL,
	"content_sha256" text NOT NULL,
	"token_count" integer NOT NULL,
	"metadata" jsonb NOT NULL,
	"embedding" vector(1536),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "documents" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "lumaleasing_document_versions" (
	"org_id" uuid NOT NULL,
	"document_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"content_type" text NOT NULL,
	"byte_size" integer NOT NULL,
	"sha256" text NOT NULL,
	"storage_key" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"error" text,
	"pages" integer,
	"chunk_count" integer,
	"duplicate_chunks" integer,
	"workflow_id" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "lumaleasing_document_versions_document_id_version_pk" PRIMARY KEY("document_id","version")
);
--> statement-breakpoint
ALTER TABLE "lumaleasing_document_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "lumaleasing_documents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"title" text NOT NULL,
	"filename" text NOT NULL,
	"latest_version" integer DEFAULT 0 NOT NULL,
	"current_version" integer,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lumaleasing_documents" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "properties" ADD COLUMN "slug" text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Written by hand: a property's slug is derived from its name when none is given ("The Reserve at Pine
-- Ridge" -> "the-reserve-at-pine-ridge"), made unique in the organization with a numeric suffix.
CREATE OR REPLACE FUNCTION properties_fill_slug() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  base text;
  candidate text;
  n int := 1;
BEGIN
  IF NEW.slug IS NOT NULL AND NEW.slug <> '' THEN
    RETURN NEW;
  END IF;
  base := trim(both '-' from regexp_replace(lower(NEW.name), '[^a-z0-9]+', '-', 'g'));
  IF base = '' THEN
    base := 'property';
  END IF;
  base := left(base, 60);
  candidate := base;
  WHILE EXISTS (SELECT 1 FROM properties p WHERE p.org_id = NEW.org_id AND p.slug = candidate AND p.id <> NEW.id) LOOP
    n := n + 1;
    candidate := base || '-' || n;
  END LOOP;
  NEW.slug := candidate;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER properties_fill_slug BEFORE INSERT OR UPDATE OF slug ON properties
  FOR EACH ROW EXECUTE FUNCTION properties_fill_slug();
--> statement-breakpoint
-- Existing properties get their slug now (the trigger fires on this update).
UPDATE properties SET slug = '' WHERE slug = '';
--> statement-breakpoint
ALTER TABLE "chat_conversations" ADD CONSTRAINT "chat_conversations_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_conversations" ADD CONSTRAINT "chat_conversations_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_conversations" ADD CONSTRAINT "chat_conversations_lead_id_fact_leads_id_fk" FOREIGN KEY ("lead_id") REFERENCES "public"."fact_leads"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_conversation_id_chat_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."chat_conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_document_id_lumaleasing_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."lumaleasing_documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lumaleasing_document_versions" ADD CONSTRAINT "lumaleasing_document_versions_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lumaleasing_document_versions" ADD CONSTRAINT "lumaleasing_document_versions_document_id_lumaleasing_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."lumaleasing_documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lumaleasing_documents" ADD CONSTRAINT "lumaleasing_documents_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lumaleasing_documents" ADD CONSTRAINT "lumaleasing_documents_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_conversations_property_last_idx" ON "chat_conversations" USING btree ("org_id","property_id","last_message_at");--> statement-breakpoint
CREATE UNIQUE INDEX "chat_messages_seq_unique" ON "chat_messages" USING btree ("conversation_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "documents_version_chunk_unique" ON "documents" USING btree ("document_id","version","chunk_index");--> statement-breakpoint
CREATE INDEX "documents_property_idx" ON "documents" USING btree ("property_id");--> statement-breakpoint
CREATE INDEX "documents_embedding_hnsw" ON "documents" USING hnsw ("embedding" vector_cosine_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "lumaleasing_documents_filename_unique" ON "lumaleasing_documents" USING btree ("org_id","property_id","filename");--> statement-breakpoint
CREATE INDEX "lumaleasing_documents_property_idx" ON "lumaleasing_documents" USING btree ("property_id");--> statement-breakpoint
CREATE UNIQUE INDEX "properties_org_slug_unique" ON "properties" USING btree ("org_id","slug");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "chat_conversations" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "chat_messages" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "documents" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "lumaleasing_document_versions" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "lumaleasing_documents" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- Written by hand: the seed's match_documents, scoped to the organization (RLS, plus an explicit filter for
-- callers that bypass it) and to each document's current version, returning provenance for citations.
-- Iterative HNSW scans (pgvector 0.8) keep returning candidates until enough survive the property filter,
-- so a small property in a large index still gets its match_count rows.
CREATE OR REPLACE FUNCTION match_documents(
  query_embedding vector(1536),
  match_threshold float,
  match_count int,
  filter_property uuid
)
RETURNS TABLE (
  id uuid,
  content text,
  similarity float,
  document_id uuid,
  metadata jsonb
)
LANGUAGE plpgsql STABLE
SET hnsw.iterative_scan = 'relaxed_order'
SET hnsw.ef_search = 100
AS $$
BEGIN
  RETURN QUERY
  SELECT m.id, m.content, m.similarity, m.document_id, m.metadata
  FROM (
    SELECT d.id, d.content, (1 - (d.embedding <=> query_embedding))::float AS similarity, d.document_id, d.metadata,
      d.embedding <=> query_embedding AS distance
    FROM documents d
    JOIN lumaleasing_documents ld ON ld.id = d.document_id AND ld.current_version = d.version
    WHERE d.property_id = filter_property
      AND d.org_id = nullif(current_setting('app.org_id', true), '')::uuid
      AND d.embedding IS NOT NULL
    ORDER BY d.embedding <=> query_embedding
    LIMIT greatest(match_count, 1) * 4
  ) m
  WHERE m.similarity > match_threshold
  ORDER BY m.distance
  LIMIT match_count;
END;
$$;
