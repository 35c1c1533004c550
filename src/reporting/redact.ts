/** Replaces the password of every connection URL in `text` with `***`. */
export function redactUrl(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/?#\s@]*:)([^@\s]*)@/gi, "$1***@");
}
