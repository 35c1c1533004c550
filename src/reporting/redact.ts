/** Replaces the password of every connection URL in `text` (any scheme) with `***`. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)([^@\s]*)@/gi, "$1***@");
}
