CREATE TABLE "lead_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"lead_id" uuid NOT NULL,
	"direction" text NOT NULL,
	"channel" text NOT NULL,
	"author" text,
	"idempotency_key" text NOT NULL,
	"provider_message_id" text,
	"status" text NOT NULL,
	"status_detail" text,
	"step_id" integer,
	"template" text,
	"subject" text,
	"body" text NOT NULL,
	"intent" text,
	"classifier" text,
	"attempted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status_updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lead_messages" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "lead_workflows" (
	"lead_id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"property_id" uuid,
	"workflow_id" text NOT NULL,
	"current_step" integer DEFAULT 0 NOT NULL,
	"total_steps" integer NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"exit_reason" text,
	"paused_reason" text,
	"needs_staff" boolean DEFAULT false NOT NULL,
	"next_action_at" timestamp with time zone,
	"last_action_at" timestamp with time zone,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lead_workflows" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tourspark_opt_outs" (
	"org_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"address_hash" text NOT NULL,
	"source" text NOT NULL,
	"lead_id" uuid,
	"opted_out_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tourspark_opt_outs_org_id_channel_address_hash_pk" PRIMARY KEY("org_id","channel","address_hash")
);
--> statement-breakpoint
ALTER TABLE "tourspark_opt_outs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tourspark_sequences" (
	"org_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"definition" jsonb NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tourspark_sequences_org_id_property_id_pk" PRIMARY KEY("org_id","property_id")
);
--> statement-breakpoint
ALTER TABLE "tourspark_sequences" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "leadpulse_models" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"status" text DEFAULT 'candidate' NOT NULL,
	"status_reason" text,
	"training_workflow_id" text NOT NULL,
	"feature_spec" jsonb NOT NULL,
	"trees" jsonb NOT NULL,
	"params" jsonb NOT NULL,
	"metrics" jsonb NOT NULL,
	"onnx" "bytea" NOT NULL,
	"onnx_sha256" text NOT NULL,
	"trained_from" timestamp with time zone,
	"trained_to" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"promoted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "leadpulse_models" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD COLUMN "ai_score_model_version" integer;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD COLUMN "ai_scored_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD COLUMN "phone_hash" text;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD COLUMN "email_hash" text;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD COLUMN "email_domain_class" text;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD COLUMN "interactions" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fact_leads" ADD COLUMN "first_response_minutes" integer;--> statement-breakpoint
ALTER TABLE "lead_messages" ADD CONSTRAINT "lead_messages_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_messages" ADD CONSTRAINT "lead_messages_lead_id_fact_leads_id_fk" FOREIGN KEY ("lead_id") REFERENCES "public"."fact_leads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_workflows" ADD CONSTRAINT "lead_workflows_lead_id_fact_leads_id_fk" FOREIGN KEY ("lead_id") REFERENCES "public"."fact_leads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_workflows" ADD CONSTRAINT "lead_workflows_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_workflows" ADD CONSTRAINT "lead_workflows_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tourspark_opt_outs" ADD CONSTRAINT "tourspark_opt_outs_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tourspark_sequences" ADD CONSTRAINT "tourspark_sequences_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tourspark_sequences" ADD CONSTRAINT "tourspark_sequences_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leadpulse_models" ADD CONSTRAINT "leadpulse_models_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lead_messages_idempotency_unique" ON "lead_messages" USING btree ("org_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "lead_messages_lead_idx" ON "lead_messages" USING btree ("lead_id","created_at");--> statement-breakpoint
CREATE INDEX "lead_messages_provider_idx" ON "lead_messages" USING btree ("provider_message_id");--> statement-breakpoint
CREATE INDEX "lead_workflows_org_status_idx" ON "lead_workflows" USING btree ("org_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "leadpulse_models_version_unique" ON "leadpulse_models" USING btree ("org_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "leadpulse_models_training_unique" ON "leadpulse_models" USING btree ("org_id","training_workflow_id");--> statement-breakpoint
CREATE UNIQUE INDEX "leadpulse_models_one_promoted" ON "leadpulse_models" USING btree ("org_id") WHERE status = 'promoted';--> statement-breakpoint
CREATE INDEX "leadpulse_models_org_idx" ON "leadpulse_models" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE INDEX "fact_leads_phone_hash_idx" ON "fact_leads" USING btree ("phone_hash");--> statement-breakpoint
CREATE INDEX "fact_leads_email_hash_idx" ON "fact_leads" USING btree ("email_hash");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "lead_messages" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "lead_workflows" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "tourspark_opt_outs" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "tourspark_sequences" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "leadpulse_models" AS PERMISSIVE FOR ALL TO "p11_app" USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK (org_id = nullif(current_setting('app.org_id', true), '')::uuid);