import { describe, expect, test } from 'vitest';
import { parseHttpDate } from './http-date.ts';

const NOV_6_1994 = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('HTTP-date (RFC 9110 §5.6.7)', () => {
  // "A recipient that parses a timestamp value in an HTTP field MUST accept all three HTTP-date formats."
  test('the three formats name the same instant', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(NOV_6_1994);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(NOV_6_1994);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(NOV_6_1994);
  });

  // RFC 9111 §4.2: "Although all date formats are specified to be case-sensitive, a cache recipient
  // SHOULD match the field value case-insensitively."
  test('case does not matter to a cache', () => {
    expect(parseHttpDate('sun, 06 nov 1994 08:49:37 gmt')).toBe(NOV_6_1994);
  });

  // "Recipients of a timestamp value in rfc850-date format, which uses a two-digit year, MUST
  // interpret a timestamp that appears to be more than 50 years in the future as representing the
  // most recent year in the past that had the same last two digits."
  test('a two-digit year more than 50 years ahead is in the past century', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseHttpDate('Friday, 01-Jan-60 00:00:00 GMT', now)).toBe(Date.UTC(2060, 0, 1));
    expect(parseHttpDate('Saturday, 01-Jan-77 00:00:00 GMT', now)).toBe(Date.UTC(1977, 0, 1));
  });

  // RFC 9111 §4.2: "If a cache recipient's internal implementation of time has less resolution than
  // the value of an HTTP-date, the recipient MUST internally represent a parsed Expires date as the
  // nearest time equal to or earlier than the received value."
  test('a leap second is read as the second before it', () => {
    expect(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT')).toBe(Date.UTC(2016, 11, 31, 23, 59, 59));
  });

  // RFC 9111 §5.3: "A cache recipient MUST interpret invalid date formats, especially the value "0",
  // as representing a time in the past (i.e., "already expired")." So each of these must be refused
  // here, where Date.parse would accept most of them as some date.
  test.each([
    ['dashes in an IMF-fixdate', 'Thu, 01-Dec-2094 16:00:00 GMT'],
    ['a one-digit hour', 'Thu, 01 Dec 2094 6:00:00 GMT'],
    ['no comma after the day name', 'Thu 01 Dec 2094 16:00:00 GMT'],
    ['two field lines made one list', 'Thu, 01 Dec 2094 16:00:00 GMT, Fri, 02 Dec 2094 16:00:00 GMT'],
    ['the value "0"', '0'],
    ['a zone other than GMT', 'Thu, 01 Dec 2094 16:00:00 +0000'],
    ['UTC spelt out', 'Thu, 01 Dec 2094 16:00:00 UTC'],
    ['a four-digit year in the rfc850 format', 'Thursday, 01-Dec-2094 16:00:00 GMT'],
    ['an ISO 8601 timestamp', '2094-12-01T16:00:00Z'],
    ['31 February', 'Wed, 31 Feb 2094 16:00:00 GMT'],
    ['hour 24', 'Thu, 01 Dec 2094 24:00:00 GMT'],
    ['extra whitespace', 'Thu,  01 Dec 2094 16:00:00 GMT'],
  ])('%s is no HTTP-date', (_why, value) => {
    expect(parseHttpDate(value)).toBeUndefined();
  });
});
