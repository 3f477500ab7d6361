/** Exact money and count conversions shared by the platform clients (integer math, no float drift). */

/** Integer cents → "12.34" (always two decimals). */
export function formatCents(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  return `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** A decimal string such as Meta's "12.3", "40" or "0.125" → cents, rounded half up (away from zero). */
export function decimalToCents(value: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!match) throw new Error(`not a decimal amount: ${JSON.stringify(value)}`);
  const [, sign, whole = '0', fraction = ''] = match;
  const digits = fraction.padEnd(3, '0');
  let cents = BigInt(whole) * 100n + BigInt(digits.slice(0, 2));
  if (Number(digits[2]) >= 5) cents += 1n;
  return sign === '-' ? -cents : cents;
}

/** Google's cost_micros (an int64 as a string or number) → cents, rounded half up (away from zero). */
export function microsToCents(micros: string | number): bigint {
  const value = BigInt(typeof micros === 'number' ? Math.round(micros) : micros);
  const abs = value < 0n ? -value : value;
  const cents = (abs + 5_000n) / 10_000n;
  return value < 0n ? -cents : cents;
}

/** A count the platform sends as a string ("123") or number; anything else is a protocol error. */
export function toCount(value: unknown, field: string): number {
  if (value === undefined || value === null || value === '') return 0;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new Error(`${field} is not a number: ${JSON.stringify(value)}`);
  return n;
}

/** Conversions are doubles (2.5, 1.35); facts store whole conversions: rounded half up (2.5 → 3, 1.35 → 1). */
export function roundConversions(value: number): number {
  return Math.floor(value + 0.5);
}
