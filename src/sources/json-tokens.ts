/** Small lexical helpers shared by the readers' error and fidelity paths (valid JSON text only). */

/** JSON whitespace: space, LF, CR, tab. */
export const isBlank = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

/** Index just past the string whose opening quote is at `start`: the first quote not escaped by an odd run of backslashes. */
export function pastString(text: string, start: number): number {
  let q = text.indexOf('"', start + 1);
  while (q >= 0) {
    let b = q - 1;
    while (text.charCodeAt(b) === 92) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    q = text.indexOf('"', q + 1);
  }
  return text.length;
}
