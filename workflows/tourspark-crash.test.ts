/**
 * Exactly once across a worker crash: 30 sequences (SMS, email, SMS, seconds apart) start on worker 1, whose
 * process "dies" mid-way; worker 2 takes over the same task queue; every expected message reaches the
 * emulators exactly once: no duplicate by (lead, step), none missing.
 *
 * How worker 1 dies. Once the sequences are under way, every send on worker 1 hangs forever at one of three
 * points, in turn, which is what an instant process death leaves behind at those points:
 *   - before the provider call: the row is `sending`, the provider never heard of the message;
 *   - after the provider accepted it (the emulator has it), before the row says `sent`;
 *   - after the activity committed `sent`, before Temporal heard of the result.
 * Worker 1 is then shut down hard (a short grace and force time: its in-flight activities are abandoned, never
 * completed or failed, and its sticky queue is given up within a second), so the server sees those attempts
 * only through their start-to-close timeout, exactly as after a real crash, and retries them on worker 2 (a
 * fresh Worker: an empty workflow cache, histories replayed from the server).
 *
 * Why in-process: the database is PGlite, PostgreSQL running inside this process (one session), so a worker
 * in another process could not share it; the "process" that dies is worker 1's Worker and its connection.
 * Faithful for what exactly-once depends on: what the provider, the database and the Temporal server hold at
 * the moment of death, and that nothing of worker 1 reports back afterwards. Not covered: a death in the middle
 * of a database transaction (PostgreSQL rolls it back; the activity is then simply re-run), a provider call
 * that is still on the wire when the retry reconciles (the providerTimeout wait covers it; its unit test is
 * in activities/tourspark.test.ts), and the workflow-task half of a crash beyond the sticky-queue hand-off.
 */
import { Client, Connection } from '@temporalio/client';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import type { EmailSender } from '../integrations/email';
import type { SmsSender } from '../integrations/sms';
import { createEncryptor } from '../lib/crypto';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from '../test/database';
import {
  emulatorEmails,
  emulatorSms,
  farQuietHours,
  insertLead,
  outboundRows,
  sequenceResult,
  setSequence,
  startSequence,
  testPhone,
  type TestLead,
} from '../test/tourspark-fixtures';
import {
  sandboxEmailSender,
  sandboxSmsSender,
  startTourSparkWorker,
  type TourSparkTestActivities,
  type TourSparkWorker,
} from '../test/tourspark-worker';
import { stepMessageKey } from './tourspark';

const LEADS = 30;
/** Sends that go through on worker 1 before it starts dying: most first steps (the rest die, as SMS). */
const HEALTHY_SENDS = 24;
/** Worker 1 is killed once this many sends have died on it (or a few seconds after the first did): SMS and emails. */
const CRASHES_BEFORE_KILL = 12;

type CrashPoint = 'before-provider' | 'after-provider' | 'after-commit';
const CRASH_POINTS: CrashPoint[] = ['before-provider', 'after-provider', 'after-commit'];

const encryptor = createEncryptor(randomBytes(32));
const TZ = 'America/Chicago';
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let client: Client;
let orgId: string;
let propertyId: string;
const workers: TourSparkWorker[] = [];

/** A call that never returns: the process is gone. */
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  const org = await createOrganization(database.db, {
    name: 'Crash Test Living',
    slug: `tourspark-crash-${process.pid}-${Date.now().toString(36)}`,
    enabledProducts: ['tourspark'],
    properties: [{ name: 'The Crashpad', timezone: TZ, contactPhone: '+15125550142' }],
  });
  orgId = org.orgId;
  propertyId = org.propertyIds[0]!;
  await setSequence(database.db, orgId, propertyId, {
    steps: [
      { id: 1, delay: '1s', action: 'sms', template: 'first' },
      { id: 2, delay: '2s', action: 'email', template: 'second' },
      { id: 3, delay: '2s', action: 'sms', template: 'third' },
    ],
    exit_conditions: ['tour_booked', 'reply_received', 'opt_out'],
    templates: {
      first: { channel: 'sms', body: 'Hi {{first_name}}, thanks for asking about {{property_name}}!' },
      second: { channel: 'email', subject: 'Your visit, {{first_name}}', body: 'Book a tour: {{scheduler_link}}' },
      third: { channel: 'sms', body: 'Still looking, {{first_name}}? {{scheduler_link}}' },
    },
    quiet_hours: farQuietHours(TZ),
    scheduler_url: 'https://tours.p11.test/crashpad',
  });
  client = new Client({
    connection: await Connection.connect({ address: inject('temporalAddress') }),
    namespace: inject('temporalNamespace'),
  });
});

afterAll(async () => {
  for (const w of workers) await w.close().catch(() => undefined);
  await client?.connection.close();
  await sandbox?.close();
  await database?.close();
});

describe('worker crash and restart', () => {
  test('every message is delivered exactly once across a hard kill mid-sequence', { timeout: 180_000 }, async () => {
    // ── Worker 1: healthy at first, then every send dies at one of the three points ─────────────────────
    const crashPoint = new AsyncLocalStorage<{ point: CrashPoint | null; key: string }>();
    const died: Record<CrashPoint, string[]> = { 'before-provider': [], 'after-provider': [], 'after-commit': [] };
    let sendsStarted = 0;
    let firstDeath: (() => void) | null = null;
    const firstDeathSeen = new Promise<void>((resolve) => (firstDeath = resolve));
    let enoughDeaths: (() => void) | null = null;
    const killTime = new Promise<void>((resolve) => (enoughDeaths = resolve));
    const dieAt = (point: CrashPoint, key: string) => {
      died[point].push(key);
      firstDeath?.();
      const total = CRASH_POINTS.reduce((n, p) => n + died[p].length, 0);
      if (total >= CRASHES_BEFORE_KILL) enoughDeaths?.();
    };

    const realSms = sandboxSmsSender(sandbox.url);
    const realEmail = sandboxEmailSender(sandbox.url);
    /** A provider call that dies before or after reaching the provider, when this send is to die there. */
    async function dyingCall<T>(call: () => Promise<T>): Promise<T> {
      const crash = crashPoint.getStore();
      if (crash?.point === 'before-provider') {
        dieAt('before-provider', crash.key);
        return never();
      }
      const result = await call();
      if (crash?.point === 'after-provider') {
        dieAt('after-provider', crash.key);
        return never();
      }
      return result;
    }
    const dyingSms: SmsSender = {
      send: (message) => dyingCall(() => realSms.send(message)),
      findSent: (query) => realSms.findSent(query),
    };
    const dyingEmail: EmailSender = {
      send: (message) => dyingCall(() => realEmail.send(message)),
      findSent: (query) => realEmail.findSent(query),
    };
    const dying = (activities: TourSparkTestActivities): TourSparkTestActivities => ({
      ...activities,
      async sendLeadMessage(input) {
        const n = ++sendsStarted;
        const point = n <= HEALTHY_SENDS ? null : CRASH_POINTS[n % CRASH_POINTS.length]!;
        return crashPoint.run({ point, key: input.key }, async () => {
          const result = await activities.sendLeadMessage(input);
          if (point === 'after-commit') {
            dieAt(point, input.key);
            return never();
          }
          return result;
        });
      },
    });

    const sendTimeout = '3s';
    const worker1 = await startTourSparkWorker({
      name: 'tourspark-crash',
      database,
      encryptor,
      sandboxUrl: sandbox.url,
      sms: dyingSms,
      email: dyingEmail,
      wrapActivities: dying,
      sendTimeout,
      providerTimeout: '1s',
      replyWindow: '1s',
      workerOptions: {
        // A hard kill: in-flight activities get 200 ms, then the worker stops without them.
        shutdownGraceTime: '200ms',
        shutdownForceTime: '1s',
        // Workflow tasks of runs cached on worker 1 move to the shared queue within a second.
        stickyQueueScheduleToStartTimeout: '1s',
      },
    });
    workers.push(worker1);

    const leads: TestLead[] = [];
    for (let i = 0; i < LEADS; i++) {
      leads.push(
        await insertLead(database.db, encryptor, {
          orgId,
          propertyId,
          name: `Lead${i} Tester`,
          phone: testPhone(),
          email: `lead${i}.${randomBytes(3).toString('hex')}@example.com`,
        }),
      );
    }
    await Promise.all(leads.map((lead) => startSequence(client, worker1.taskQueue, lead)));

    // ── Mid-way: kill worker 1 ───────────────────────────────────────────────────────────────────────────
    await firstDeathSeen;
    await Promise.race([killTime, new Promise((r) => setTimeout(r, 4000))]);
    await worker1.close();
    const deathsAtKill = Object.fromEntries(CRASH_POINTS.map((p) => [p, died[p].length]));
    const smsAtKill = (await emulatorSms(sandbox.url)).length;
    const emailsAtKill = (await emulatorEmails(sandbox.url)).length;
    console.log(
      `worker 1 killed after ${sendsStarted} sends: died ${JSON.stringify(deathsAtKill)}; the emulators had ${smsAtKill} SMS and ${emailsAtKill} emails`,
    );
    for (const point of CRASH_POINTS) expect(died[point].length, point).toBeGreaterThan(0);
    // Both channels died: first steps (SMS) and second steps (email).
    const diedKeys = CRASH_POINTS.flatMap((p) => died[p]);
    expect(diedKeys.some((k) => k.endsWith('/step/1'))).toBe(true);
    expect(diedKeys.some((k) => k.endsWith('/step/2'))).toBe(true);
    // Mid-way indeed: some of the 90 messages are out, most are not.
    expect(smsAtKill + emailsAtKill).toBeGreaterThan(0);
    expect(smsAtKill + emailsAtKill).toBeLessThan(LEADS * 3);

    // ── Worker 2: the same queue, the normal senders (counting what reconciliation finds) ─────────────────
    let reconciledFound = 0;
    const countingSms: SmsSender = {
      send: (message) => realSms.send(message),
      async findSent(query) {
        const found = await realSms.findSent(query);
        if (found) reconciledFound++;
        return found;
      },
    };
    const countingEmail: EmailSender = {
      send: (message) => realEmail.send(message),
      async findSent(query) {
        const found = await realEmail.findSent(query);
        if (found) reconciledFound++;
        return found;
      },
    };
    const worker2 = await startTourSparkWorker({
      name: 'tourspark-crash-2',
      taskQueue: worker1.taskQueue,
      database,
      encryptor,
      sandboxUrl: sandbox.url,
      sms: countingSms,
      email: countingEmail,
      sendTimeout,
      providerTimeout: '1s',
      replyWindow: '1s',
    });
    workers.push(worker2);

    const results = await Promise.all(leads.map((lead) => sequenceResult(client, lead.leadId)));
    expect(results.map((r) => [r.exitReason, r.stepsSent])).toEqual(leads.map(() => ['completed', 3]));

    // ── Exactly once: every (lead, step) in the emulators once, nothing else ─────────────────────────────
    const allSms = await emulatorSms(sandbox.url);
    const allEmails = await emulatorEmails(sandbox.url);
    const problems: string[] = [];
    for (const [i, lead] of leads.entries()) {
      const texts = allSms.filter((m) => m.to === lead.contact.phone).map((m) => m.body);
      const expected = [
        `Hi Lead${i}, thanks for asking about The Crashpad!`,
        `Still looking, Lead${i}? https://tours.p11.test/crashpad?lead=${lead.leadId}`,
      ];
      if (JSON.stringify(texts) !== JSON.stringify(expected)) problems.push(`lead ${i} SMS: ${JSON.stringify(texts)}`);
      const mails = allEmails.filter((m) => m.to.includes(lead.contact.email!));
      if (mails.length !== 1 || mails[0]!.customArgs.idempotency_key !== stepMessageKey(lead.leadId, 2)) {
        problems.push(`lead ${i} emails: ${mails.length}`);
      }
      const rows = await outboundRows(database.db, lead);
      const states = rows.map((r) => `${r.stepId}:${r.status}:${r.providerMessageId ? 'id' : '-'}`).join(',');
      if (states !== '1:sent:id,2:sent:id,3:sent:id') problems.push(`lead ${i} rows: ${states}`);
    }
    expect(problems).toEqual([]);
    expect(allSms).toHaveLength(LEADS * 2);
    expect(allEmails).toHaveLength(LEADS);
    // Messages that reached the provider before the death were found there, not sent again.
    expect(reconciledFound).toBeGreaterThanOrEqual(died['after-provider'].length);
    console.log(
      `after restart: ${allSms.length} SMS and ${allEmails.length} emails, ${reconciledFound} reconciled from the provider's records`,
    );
  });
});
