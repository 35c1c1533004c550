/** Replaces the password of every connection URL in `text` with `***`. */
export function redactUrl(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/?#\s@]*:)([^@\s]*)@/gi, "$1***@");
}

/** A URL safe to show: no password. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    for (const k of [...u.searchParams.keys()]) if (/pass/i.test(k)) u.searchParams.set(k, "***");
    return u.toString();
  } catch {
    return redactUrl(url);
  }
}
