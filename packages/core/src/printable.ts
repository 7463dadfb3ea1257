// Control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides, the BOM and
// surrogate halves: what `printable` escapes.
const UNPRINTABLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\uD800-\uDFFF]/gu;

/** Default longest value `printable` keeps, in UTF-16 code units. */
export const PRINTABLE_MAX_LENGTH = 200;

/**
 * Text from the wire made safe for a log line or a terminal: control characters (C0, DEL, C1, so ESC and
 * newlines too), line and paragraph separators, bidirectional overrides and unpaired surrogates become
 * `\uXXXX` escapes, and values longer than `maxLength` (default {@link PRINTABLE_MAX_LENGTH}) are cut with
 * an ellipsis. A client id, topic or method name passed through it can neither forge a log line nor move
 * the cursor or recolour a terminal. Non-strings are converted with `String()` first.
 */
export function printable(value: unknown, maxLength: number = PRINTABLE_MAX_LENGTH): string {
  const text = typeof value === 'string' ? value : String(value);
  const shown = text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
  // A well-formed surrogate pair is one code point of the `u` regex and is not matched; lone halves are.
  return shown.replace(
    UNPRINTABLE,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
