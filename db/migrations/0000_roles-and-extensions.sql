-- Written by hand: drizzle-kit emits neither extensions, nor roles it is told already exist, nor grants.
CREATE EXTENSION IF NOT EXISTS vector;
--> statement-breakpoint
-- The role tenant work runs as. It owns no table, so row-level security always applies to it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'p11_app') THEN
    CREATE ROLE p11_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
-- The migrating user must be able to `SET LOCAL ROLE p11_app` (a superuser can anyway).
DO $$
BEGIN
  EXECUTE format('GRANT p11_app TO %I', current_user);
EXCEPTION WHEN others THEN
  RAISE NOTICE 'could not grant p11_app to %: %', current_user, SQLERRM;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO p11_app;
--> statement-breakpoint
-- Every table and sequence the migrating user creates from now on is usable by p11_app (RLS still applies).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO p11_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO p11_app;
