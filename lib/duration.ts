import ms from 'ms';

/** A duration written as data: "15s", "5m", "24h", "5d", or a number of milliseconds. */
export type DurationString = string;

/** Parses a duration string ("2h", "500ms", "0s") to milliseconds; throws on anything it cannot read. */
export function durationToMs(value: DurationString | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`Invalid duration: ${value}`);
    return value;
  }
  const trimmed = value.trim();
  const parsed = /^\d+$/.test(trimmed) ? Number(trimmed) : ms(trimmed as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new Error(`Invalid duration "${value}" (expected e.g. "15s", "5m", "2h", "5d")`);
  }
  return parsed;
}

/** Parses a comma-separated list of durations, e.g. "0s,5s,5m". */
export function parseDurationList(value: string): DurationString[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) durationToMs(item);
  return items;
}
