/**
 * HTTP-date (RFC 9110 §5.6.7) as a cache reads it: exactly the three formats of the grammar, each
 * one field value, matched without regard to case (RFC 9111 §4.2), in GMT. Anything else is not a
 * date: `Date.parse` would read dashes, one-digit hours, missing commas, lists and local zones,
 * and for `Expires` a value that is not a date must mean "already expired", not some other date.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY = '(?:mon|tue|wed|thu|fri|sat|sun)';
const LONG_DAY = '(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ([a-z]{3}) (\\d{4}) ${TIME} gmt$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-([a-z]{3})-(\\d{2}) ${TIME} gmt$`);
/** `Sun Nov  6 08:49:37 1994` */
const ASCTIME_DATE = new RegExp(`^${DAY} ([a-z]{3}) (\\d{2}| \\d) ${TIME} (\\d{4})$`);

/** The instant an HTTP-date names, in milliseconds since the epoch; undefined when the value is not one. */
export function parseHttpDate(value: string, now: number = Date.now()): number | undefined {
  const text = value.toLowerCase();
  let match = IMF_FIXDATE.exec(text);
  if (match) {
    const [, day, month, year, hour, minute, second] = match as unknown as string[];
    return instant(Number(year), month as string, Number(day), Number(hour), Number(minute), Number(second));
  }
  match = RFC850_DATE.exec(text);
  if (match) {
    const [, day, month, shortYear, hour, minute, second] = match as unknown as string[];
    return instant(
      rfc850Year(Number(shortYear), now),
      month as string,
      Number(day),
      Number(hour),
      Number(minute),
      Number(second),
    );
  }
  match = ASCTIME_DATE.exec(text);
  if (match) {
    const [, month, day, hour, minute, second, year] = match as unknown as string[];
    return instant(Number(year), month as string, Number(day), Number(hour), Number(minute), Number(second));
  }
  return undefined;
}

/**
 * RFC 9110 §5.6.7: "Recipients of a timestamp value in rfc850-date format, which uses a two-digit
 * year, MUST interpret a timestamp that appears to be more than 50 years in the future as
 * representing the most recent year in the past that had the same last two digits."
 */
function rfc850Year(shortYear: number, now: number): number {
  const currentYear = new Date(now).getUTCFullYear();
  const year = currentYear - (currentYear % 100) + shortYear;
  return year - currentYear > 50 ? year - 100 : year;
}

function instant(
  year: number,
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const month = MONTHS.indexOf(monthName);
  if (month < 0 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years below 100 as 19xx.
  date.setUTCFullYear(year, month, day);
  // A leap second is read as the second before it: RFC 9111 §4.2 wants "the nearest time equal to
  // or earlier than the received value" where the clock cannot represent the value itself.
  date.setUTCHours(hour, minute, Math.min(second, 59), 0);
  // 31 Feb rolls over into March: not a date.
  return date.getUTCDate() === day ? date.getTime() : undefined;
}
