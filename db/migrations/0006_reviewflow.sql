CREATE TABLE "review_connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"name" text NOT NULL,
	"account_id" text NOT NULL,
	"location_id" text NOT NULL,
	"credentials_ciphertext" text NOT NULL,
	"polling_enabled" boolean DEFAULT true NOT NULL,
	"last_polled_at" timestamp with time zone,
	"last_poll_status" text,
	"last_poll_error" text,
	"last_poll_changes" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "review_connections" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "review_drafts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"review_id" uuid NOT NULL,
	"review_revision" integer NOT NULL,
	"seq" integer NOT NULL,
	"text" text NOT NULL,
	"generator" text NOT NULL,
	"template_key" text,
	"instruction" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "review_drafts" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "review_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"review_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"actor" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"dedupe_key" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "review_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "review_replies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"review_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"draft_id" uuid,
	"text" text NOT NULL,
	"status" text NOT NULL,
	"approved_by" text NOT NULL,
	"approved_at" timestamp with time zone NOT NULL,
	"edited" boolean DEFAULT false NOT NULL,
	"reconciled" boolean DEFAULT false NOT NULL,
	"error" text,
	"attempted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"posted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "review_replies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "review_tickets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"review_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"priority" text NOT NULL,
	"title" text NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"resolution" text,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "review_tickets" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "reviewflow_personas" (
	"org_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"signature" text NOT NULL,
	"tone" text DEFAULT 'warm' NOT NULL,
	"contact_line" text,
	"manager_email" text,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reviewflow_personas_org_id_property_id_pk" PRIMARY KEY("org_id","property_id")
);
--> statement-breakpoint
ALTER TABLE "reviewflow_personas" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "reviewflow_settings" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"auto_reply_positive" boolean DEFAULT false NOT NULL,
	"auto_reply_delay" text DEFAULT '30m' NOT NULL,
	"reminder_after" text DEFAULT '24h' NOT NULL,
	"escalate_after" text DEFAULT '48h' NOT NULL,
	"expire_after" text DEFAULT '7d' NOT NULL,
	"slack_webhook_ciphertext" text,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "reviewflow_settings" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"connection_id" uuid,
	"source" text NOT NULL,
	"external_id" text NOT NULL,
	"source_name" text,
	"reviewer_name" text,
	"rating" integer,
	"text" text,
	"revision" integer DEFAULT 1 NOT NULL,
	"content_hash" text NOT NULL,
	"review_created_at" timestamp with time zone NOT NULL,
	"review_updated_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'triaging' NOT NULL,
	"sentiment" text,
	"topics" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"urgent" boolean DEFAULT false NOT NULL,
	"analyzer" text,
	"workflow_id" text NOT NULL,
	"decision_due_at" timestamp with time zone,
	"auto_post_at" timestamp with time zone,
	"reply_text" text,
	"replied_at" timestamp with time zone,
	"replied_by" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "reviews" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "review_connections" ADD CONSTRAINT "review_connections_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_connections" ADD CONSTRAINT "review_connections_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_drafts" ADD CONSTRAINT "review_drafts_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_drafts" ADD CONSTRAINT "review_drafts_review_id_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."reviews"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_events" ADD CONSTRAINT "review_events_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_events" ADD CONSTRAINT "review_events_review_id_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."reviews"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_replies" ADD CONSTRAINT "review_replies_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_replies" ADD CONSTRAINT "review_replies_review_id_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."reviews"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_replies" ADD CONSTRAINT "review_replies_draft_id_review_drafts_id_fk" FOREIGN KEY ("draft_id") REFERENCES "public"."review_drafts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_tickets" ADD CONSTRAINT "review_tickets_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_tickets" ADD CONSTRAINT "review_tickets_review_id_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."reviews"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_tickets" ADD CONSTRAINT "review_tickets_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviewflow_personas" ADD CONSTRAINT "reviewflow_personas_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviewflow_personas" ADD CONSTRAINT "reviewflow_personas_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviewflow_settings" ADD CONSTRAINT "reviewflow_settings_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_connection_id_review_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."review_connections"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "review_connections_location_unique" ON "review_connections" USING btree ("account_id","location_id");--> statement-breakpoint
CREATE INDEX "review_connections_org_idx" ON "review_connections" USING btree ("org_id");--> statement-breakpoint
CREATE UNIQUE INDEX "review_drafts_seq_unique" ON "review_drafts" USING btree ("review_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "review_events_dedupe_unique" ON "review_events" USING btree ("org_id","dedupe_key");--> statement-breakpoint
CREATE INDEX "review_events_review_idx" ON "review_events" USING btree ("review_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "review_replies_idempotency_unique" ON "review_replies" USING btree ("org_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "review_tickets_review_unique" ON "review_tickets" USING btree ("review_id");--> statement-breakpoint
CREATE INDEX "review_tickets_org_status_idx" ON "review_tickets" USING btree ("org_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "reviews_source_unique" ON "reviews" USING btree ("org_id","source","external_id");--> statement-breakpoint
CREATE INDEX "reviews_org_status_idx" ON "reviews" USING btree ("org_id","status","received_at");--> statement-breakpoint
CREATE INDEX "reviews_property_idx" ON "reviews" USING btree ("property_id","received_at");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "review_connections" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "review_drafts" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "review_events" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "review_replies" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "review_tickets" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "reviewflow_personas" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "reviewflow_settings" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "reviews" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);