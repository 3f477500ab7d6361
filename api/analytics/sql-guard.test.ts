import { describe, expect, test } from 'vitest';
import { extractSql } from './llm-sql';
import { guardSql } from './sql-guard';

async function refusal(sqlText: string): Promise<string> {
  const result = await guardSql(sqlText);
  if (result.ok) throw new Error(`accepted: ${sqlText}`);
  expect(result.kind).toBe('refused');
  return result.reason;
}

describe('SQL guard (libpg-query)', () => {
  test.each([
    "select date_trunc('week', f.date::timestamp)::date as date, sum(f.spend) / nullif(sum(f.leads), 0) as cpa from fact_marketing_daily f join properties p on p.id = f.property_id where p.name ilike '%reserve%' and f.date between '2026-03-09' and '2026-03-15' group by 1 order by 1",
    'select channel, sum(spend) as spend from fact_marketing_daily group by channel order by spend desc;',
    "with weekly as (select date_trunc('week', date::timestamp) as wk, sum(leads) as leads from fact_marketing_daily group by 1) select wk, leads from weekly",
    'select coalesce(sum(clicks), 0)::numeric / greatest(sum(impressions), 1) as ctr from fact_marketing_daily where date >= current_date - 30',
    "select extract(dow from date) as dow, round(avg(spend), 2) as avg_spend from fact_marketing_daily where channel in ('meta', 'google_ads') group by 1",
    'select * from fact_marketing_daily where property_id is null limit 5',
    'select name, (select sum(spend) from fact_marketing_daily f where f.property_id = p.id) as spend from properties p',
    "select to_char(date, 'YYYY-MM') as month, sum(spend) filter (where channel = 'meta') as meta_spend, rank() over (order by sum(spend) desc) as r from fact_marketing_daily group by 1",
  ])('accepts %s', async (sqlText) => {
    const result = await guardSql(sqlText);
    expect(result).toMatchObject({ ok: true });
  });

  test('returns the statement without its semicolon', async () => {
    expect(await guardSql('  select sum(spend) from fact_marketing_daily ;  ')).toEqual({
      ok: true,
      statement: 'select sum(spend) from fact_marketing_daily',
    });
  });

  test.each([
    ['select 1; drop table users', /2 statements/],
    ['select sum(spend) from fact_marketing_daily; select 1', /2 statements/],
    ['drop table users', /DROP statement: only SELECT/],
    ["insert into fact_marketing_daily (date) values ('2026-01-01')", /INSERT statement/],
    ['update properties set name = $$x$$', /UPDATE statement/],
    ['delete from properties', /DELETE statement/],
    ['with x as (delete from properties returning id) select id from x', /data-modifying WITH/],
    ['with x as (update fact_marketing_performance set spend = 0 returning 1) select 1', /data-modifying WITH/],
    ['select * into stolen from fact_marketing_daily', /INTO/],
    ['select * from properties for update', /locking/],
    ['select email from users', /relation "users" is not allowed/],
    ['select * from api_keys', /relation "api_keys" is not allowed/],
    ['select usename, passwd from pg_catalog.pg_user', /pg_catalog.pg_user/],
    ['select * from pg_user', /relation "pg_user" is not allowed/],
    ['select table_name from information_schema.tables', /information_schema.tables/],
    ['select * from public.fact_marketing_performance', /public.fact_marketing_performance/],
    ['select * from fact_marketing_performance', /relation "fact_marketing_performance" is not allowed/],
    ['select pg_sleep(10)', /pg_sleep\(\) is not allowed/],
    ['select sum(spend) from fact_marketing_daily where pg_sleep(10) is null', /pg_sleep/],
    ["select set_config('app.org_id', '00000000-0000-0000-0000-000000000000', true)", /set_config/],
    ["select current_setting('app.org_id')", /current_setting/],
    ["select * from dblink('host=x', 'select 1') as t(a int)", /function in FROM|dblink/],
    ['select * from generate_series(1, 10)', /function in FROM/],
    ["select pg_read_file('/etc/passwd')", /pg_read_file/],
    ['select pg_catalog.pg_sleep(1)', /pg_sleep/],
    ["select 'users'::regclass", /type regclass/],
    ['select address from properties', /column "address" is not allowed/],
    ['select p.contact_email from properties p', /column "contact_email" is not allowed/],
    ['select current_user', /SVFOP_CURRENT_USER/],
    ['select * from (select email from users) u', /relation "users"/],
    ['select (select count(*) from organizations) as n', /relation "organizations"/],
    ['select 1 from fact_marketing_daily where exists (select 1 from sessions)', /relation "sessions"/],
    // A CTE name is a relation only inside its own statement: it cannot make `users` readable elsewhere.
    [
      'select (select count(*) from users) as n, (with users as (select 1 as n) select n from users) as m',
      /relation "users"/,
    ],
    ['copy properties to stdout', /COPY statement/],
    ['set role postgres', /SET\/RESET statement/],
    ['reset role', /SET\/RESET statement/],
    ['explain analyze select 1', /EXPLAIN statement/],
    ['do $$ begin perform pg_sleep(1); end $$', /DO statement/],
    ['select 1 as x union select 2 as x from users', /relation "users"/],
    ["select spend from fact_marketing_daily where channel ~ '(a+)+$'", /operator ~ is not allowed/],
  ])('refuses %s', async (sqlText, reason) => {
    expect(await refusal(sqlText)).toMatch(reason);
  });

  test('syntax errors are told apart from refusals', async () => {
    expect(await guardSql('select from where')).toMatchObject({ ok: false, kind: 'syntax' });
    expect(await guardSql('   ')).toMatchObject({ ok: false, kind: 'syntax' });
  });

  test('fenced answers are unwrapped', () => {
    expect(extractSql('Here you go:\n```sql\nselect 1\n```\nEnjoy')).toBe('select 1');
    expect(extractSql('select 2')).toBe('select 2');
  });
});
