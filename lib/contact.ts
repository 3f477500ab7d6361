/**
 * Contact details as the platform stores and matches them: phone numbers in E.164 (libphonenumber-js, the
 * maintained port of Google's libphonenumber), email addresses trimmed and lower-cased.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Encryptor } from './crypto';

/** US communities: a number written without a country code is read as a US number. */
const DEFAULT_COUNTRY: CountryCode = 'US';

/** E.164 ("+15125550100"), or null when the text is not a valid phone number. */
export function normalizePhone(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const parsed = parsePhoneNumberFromString(raw.trim(), DEFAULT_COUNTRY);
  return parsed && parsed.isValid() ? parsed.number : null;
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/** Lower-cased and trimmed, or null when it is not an email address. */
export function normalizeEmail(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const value = raw.trim().toLowerCase();
  return EMAIL.test(value) ? value : null;
}

/** The blind indexes fact_leads keeps beside the encrypted contact (phone_hash, email_hash). */
export function contactHashes(
  encryptor: Encryptor,
  contact: { email: string | null; phone: string | null },
): { phoneHash: string | null; emailHash: string | null } {
  const phone = normalizePhone(contact.phone);
  const email = normalizeEmail(contact.email);
  return {
    phoneHash: phone ? encryptor.blindIndex(`phone:${phone}`) : null,
    emailHash: email ? encryptor.blindIndex(`email:${email}`) : null,
  };
}
