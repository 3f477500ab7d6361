CREATE TABLE "ad_campaigns" (
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"campaign_id" text NOT NULL,
	"name" text NOT NULL,
	"explicit_property_id" uuid,
	"property_id" uuid,
	"mapped_by" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ad_campaigns_connection_id_campaign_id_pk" PRIMARY KEY("connection_id","campaign_id")
);
--> statement-breakpoint
ALTER TABLE "ad_campaigns" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "ad_connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"name" text NOT NULL,
	"account_id" text NOT NULL,
	"credentials_ciphertext" text NOT NULL,
	"timezone" text NOT NULL,
	"default_property_id" uuid,
	"campaign_rules" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"lookback_days" integer NOT NULL,
	"schedules_enabled" text DEFAULT 'on' NOT NULL,
	"last_sync_at" timestamp with time zone,
	"last_sync_status" text,
	"last_sync_error" text,
	"credentials_invalid_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ad_connections" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "ad_sync_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"trigger" text NOT NULL,
	"range_start" date NOT NULL,
	"range_end" date NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"pages" integer DEFAULT 0 NOT NULL,
	"rows_fetched" integer DEFAULT 0 NOT NULL,
	"facts_upserted" integer DEFAULT 0 NOT NULL,
	"facts_removed" integer DEFAULT 0 NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "ad_sync_runs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "fact_marketing_performance" (
	"org_id" uuid NOT NULL,
	"date" date NOT NULL,
	"channel_id" text NOT NULL,
	"account_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"property_id" uuid,
	"connection_id" uuid,
	"campaign_name" text NOT NULL,
	"impressions" bigint DEFAULT 0 NOT NULL,
	"clicks" bigint DEFAULT 0 NOT NULL,
	"spend" numeric(12, 2) DEFAULT '0.00' NOT NULL,
	"conversions" bigint DEFAULT 0 NOT NULL,
	"raw_source" text NOT NULL,
	"sync_run_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fact_marketing_performance_org_id_channel_id_account_id_campaign_id_date_pk" PRIMARY KEY("org_id","channel_id","account_id","campaign_id","date")
);
--> statement-breakpoint
ALTER TABLE "fact_marketing_performance" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "fact_web_traffic" (
	"org_id" uuid NOT NULL,
	"date" date NOT NULL,
	"account_id" text NOT NULL,
	"session_source" text NOT NULL,
	"channel_group" text NOT NULL,
	"property_id" uuid,
	"connection_id" uuid,
	"sessions" bigint DEFAULT 0 NOT NULL,
	"key_events" numeric(14, 2) DEFAULT '0' NOT NULL,
	"raw_source" text NOT NULL,
	"sync_run_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fact_web_traffic_org_id_account_id_date_session_source_channel_group_pk" PRIMARY KEY("org_id","account_id","date","session_source","channel_group")
);
--> statement-breakpoint
ALTER TABLE "fact_web_traffic" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "raw_ga4" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "raw_ga4_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"sync_run_id" uuid NOT NULL,
	"page_index" integer NOT NULL,
	"request_params" jsonb NOT NULL,
	"data" jsonb NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "raw_ga4" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "raw_google_ads" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "raw_google_ads_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"sync_run_id" uuid NOT NULL,
	"page_index" integer NOT NULL,
	"request_params" jsonb NOT NULL,
	"data" jsonb NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "raw_google_ads" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "raw_meta_ads" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "raw_meta_ads_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"sync_run_id" uuid NOT NULL,
	"page_index" integer NOT NULL,
	"request_params" jsonb NOT NULL,
	"data" jsonb NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "raw_meta_ads" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "crm_imports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"filename" text NOT NULL,
	"file_sha256" text NOT NULL,
	"content" text NOT NULL,
	"default_property_id" uuid,
	"status" text DEFAULT 'pending' NOT NULL,
	"format" text,
	"rows_total" integer DEFAULT 0 NOT NULL,
	"rows_imported" integer DEFAULT 0 NOT NULL,
	"rows_duplicate" integer DEFAULT 0 NOT NULL,
	"row_errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"workflow_id" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "crm_imports" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "fact_leads" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"property_id" uuid,
	"source" text NOT NULL,
	"external_id" text NOT NULL,
	"contact_ciphertext" text NOT NULL,
	"status" text DEFAULT 'new' NOT NULL,
	"crm_status" text,
	"ai_score" integer,
	"received_at" timestamp with time zone NOT NULL,
	"tour_at" timestamp with time zone,
	"leased_at" timestamp with time zone,
	"unit_type" text,
	"import_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fact_leads" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "ad_campaigns" ADD CONSTRAINT "ad_campaigns_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_campaigns" ADD CONSTRAINT "ad_campaigns_connection_id_ad_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."ad_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_campaigns" ADD CONSTRAINT "ad_campaigns_explicit_property_id_properties_id_fk" FOREIGN KEY ("explicit_property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_campaigns" ADD CONSTRAINT "ad_campaigns_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_connections" ADD CONSTRAINT "ad_connections_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_connections" ADD CONSTRAINT "ad_connections_default_property_id_properties_id_fk" FOREIGN KEY ("default_property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_sync_runs" ADD CONSTRAINT "ad_sync_runs_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_sync_runs" ADD CONSTRAINT "ad_sync_runs_connection_id_ad_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."ad_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fact_marketing_performance" ADD CONSTRAINT "fact_marketing_performance_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fact_marketing_performance" ADD CONSTRAINT "fact_marketing_performance_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fact_marketing_performance" ADD CONSTRAINT "fact_marketing_performance_connection_id_ad_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."ad_connections"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fact_web_traffic" ADD CONSTRAINT "fact_web_traffic_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fact_web_traffic" ADD CONSTRAINT "fact_web_traffic_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fact_web_traffic" ADD CONSTRAINT "fact_web_traffic_connection_id_ad_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."ad_connections"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_ga4" ADD CONSTRAINT "raw_ga4_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_ga4" ADD CONSTRAINT "raw_ga4_connection_id_ad_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."ad_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_ga4" ADD CONSTRAINT "raw_ga4_sync_run_id_ad_sync_runs_id_fk" FOREIGN KEY ("sync_run_id") REFERENCES "public"."ad_sync_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_google_ads" ADD CONSTRAINT "raw_google_ads_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_google_ads" ADD CONSTRAINT "raw_google_ads_connection_id_ad_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."ad_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_google_ads" ADD CONSTRAINT "raw_google_ads_sync_run_id_ad_sync_runs_id_fk" FOREIGN KEY ("sync_run_id") REFERENCES "public"."ad_sync_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_meta_ads" ADD CONSTRAINT "raw_meta_ads_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_meta_ads" ADD CONSTRAINT "raw_meta_ads_connection_id_ad_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."ad_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_meta_ads" ADD CONSTRAINT "raw_meta_ads_sync_run_id_ad_sync_runs_id_fk" FOREIGN KEY ("sync_run_id") REFERENCES "public"."ad_sync_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "crm_imports" ADD CONSTRAINT "crm_imports_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "crm_imports" ADD CONSTRAINT "crm_imports_default_property_id_properties_id_fk" FOREIGN KEY ("default_property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD CONSTRAINT "fact_leads_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD CONSTRAINT "fact_leads_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ad_campaigns_org_idx" ON "ad_campaigns" USING btree ("org_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ad_connections_account_unique" ON "ad_connections" USING btree ("org_id","channel","account_id");--> statement-breakpoint
CREATE INDEX "ad_connections_org_idx" ON "ad_connections" USING btree ("org_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ad_sync_runs_workflow_run_unique" ON "ad_sync_runs" USING btree ("workflow_id","run_id");--> statement-breakpoint
CREATE INDEX "ad_sync_runs_connection_idx" ON "ad_sync_runs" USING btree ("connection_id","started_at");--> statement-breakpoint
CREATE INDEX "idx_fact_marketing_date" ON "fact_marketing_performance" USING btree ("org_id","date");--> statement-breakpoint
CREATE INDEX "idx_fact_marketing_prop" ON "fact_marketing_performance" USING btree ("property_id","date");--> statement-breakpoint
CREATE INDEX "fact_web_traffic_prop_idx" ON "fact_web_traffic" USING btree ("property_id","date");--> statement-breakpoint
CREATE UNIQUE INDEX "raw_ga4_run_page_unique" ON "raw_ga4" USING btree ("sync_run_id","page_index");--> statement-breakpoint
CREATE INDEX "raw_ga4_org_idx" ON "raw_ga4" USING btree ("org_id","ingested_at");--> statement-breakpoint
CREATE UNIQUE INDEX "raw_google_ads_run_page_unique" ON "raw_google_ads" USING btree ("sync_run_id","page_index");--> statement-breakpoint
CREATE INDEX "raw_google_ads_org_idx" ON "raw_google_ads" USING btree ("org_id","ingested_at");--> statement-breakpoint
CREATE UNIQUE INDEX "raw_meta_ads_run_page_unique" ON "raw_meta_ads" USING btree ("sync_run_id","page_index");--> statement-breakpoint
CREATE INDEX "raw_meta_ads_org_idx" ON "raw_meta_ads" USING btree ("org_id","ingested_at");--> statement-breakpoint
CREATE UNIQUE INDEX "crm_imports_file_unique" ON "crm_imports" USING btree ("org_id","file_sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "fact_leads_source_external_unique" ON "fact_leads" USING btree ("org_id","source","external_id");--> statement-breakpoint
CREATE INDEX "fact_leads_property_received_idx" ON "fact_leads" USING btree ("property_id","received_at");--> statement-breakpoint
CREATE VIEW "public"."fact_marketing_daily" WITH (security_invoker = true) AS (select "org_id", "date", "property_id", "channel_id" as "channel", sum("spend") as "spend", sum("impressions")::bigint as "impressions", sum("clicks")::bigint as "clicks", sum("conversions")::bigint as "leads" from "fact_marketing_performance" group by "fact_marketing_performance"."org_id", "fact_marketing_performance"."date", "fact_marketing_performance"."property_id", "fact_marketing_performance"."channel_id");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "ad_campaigns" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "ad_connections" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "ad_sync_runs" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "fact_marketing_performance" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "fact_web_traffic" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "raw_ga4" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "raw_google_ads" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "raw_meta_ads" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "crm_imports" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "fact_leads" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);