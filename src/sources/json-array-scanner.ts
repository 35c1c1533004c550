/**
 * Finds the top-level elements of a JSON array in a stream of text chunks, without
 * parsing them: it tracks only strings and nesting, so each element can then go to the
 * native JSON.parse. This is what makes reading ~10x faster than a token-level
 * streaming parser (see README, "Why a scanner"). It also flags elements holding a run of
 * 16+ digits, whose long numbers the reader then quotes (see long-numbers.ts).
 */

export type ScanProblem =
  | { kind: "not-array"; offset: number; found: string }
  | { kind: "empty-element"; offset: number }
  | { kind: "trailing-garbage"; offset: number; found: string }
  | { kind: "truncated"; offset: number };

export class JsonArrayScanner {
  private carry = "";
  /** Absolute char offset of `carry[0]`. */
  private carryOffset = 0;
  private phase: "before" | "between" | "after" = "before";
  /** True once an element ended and a comma is still expected. */
  private needComma = false;
  private sawComma = false;
  problem: ScanProblem | null = null;
  private depth = 0;
  private inString = false;
  private elementStart = -1;

  /**
   * Feeds one chunk; appends complete element texts to `out` in order, to `long` whether
   * each holds a run of 16+ digits, and to `colons` how many colons it has outside strings
   * (its number of object members at every depth; see repeated-keys.ts). Sets `problem` and
   * stops on bad structure.
   *
   * The one function over 80 lines in src/, on purpose: it is the per-character hot loop, and
   * its state lives in locals (registers), which helper functions or closures would spill.
   */
  push(chunk: string, out: string[], long: boolean[], colons: number[]): void {
    if (this.problem) return;
    const text = this.carry.length ? this.carry + chunk : chunk;
    const base = this.carryOffset;
    let i = this.elementStart >= 0 ? this.resume : 0;
    let depth = this.depth;
    let inString = this.inString;
    let start = this.elementStart;
    // a digit run may continue across chunks: a long number split by a boundary is still long
    let run = this.run;
    let isLong = this.long;
    let members = this.members;
    const n = text.length;
    while (i < n) {
      if (start >= 0) {
        // inside an element
        if (inString) {
          // jump to the next quote (native search: most of a record is inside strings); it
          // closes the string unless an odd run of backslashes escapes it. The run cannot
          // reach past the string's opening quote, which is in `text` (the carry starts at
          // the element).
          const q = text.indexOf('"', i);
          if (q < 0) {
            i = n;
            break;
          }
          let b = q - 1;
          while (text.charCodeAt(b) === 92) b--;
          if ((q - 1 - b) % 2 === 0) inString = false;
          i = q + 1;
          continue;
        }
        const c = text.charCodeAt(i);
        if ((c >= 48 && c <= 57) || c === 46) {
          if (++run >= 16) isLong = true;
          i++;
          continue;
        }
        run = 0;
        if (c === 34) inString = true;
        else if (c === 58) members++;
        else if (c === 123 || c === 91) depth++;
        // where the element ends: after its closing bracket, or before the `,` or the
        // array's `]` that follows a scalar element
        let end = -1;
        let next: "comma" | "closed" | "array-end" = "closed";
        if (c === 125 || c === 93) {
          depth--;
          if (depth === 0) end = i + 1;
          else if (depth < 0) [end, next] = [i, "array-end"];
        } else if (depth === 0 && c === 44) [end, next] = [i, "comma"];
        if (end >= 0) {
          out.push(text.slice(start, end).trimEnd());
          long.push(isLong);
          colons.push(members);
          isLong = false;
          members = 0;
          start = -1;
          if (next === "array-end") {
            depth = 0;
            this.phase = "after";
          }
          this.needComma = next === "closed";
          this.sawComma = next === "comma";
        }
        i++;
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff) {
        i++;
        continue;
      }
      if (this.phase === "before") {
        if (c !== 91) {
          this.problem = { kind: "not-array", offset: base + i, found: text.slice(i, i + 20) };
          return;
        }
        this.phase = "between";
        this.sawComma = false;
        i++;
        continue;
      }
      if (this.phase === "after") {
        this.problem = { kind: "trailing-garbage", offset: base + i, found: text.slice(i, i + 20) };
        return;
      }
      // between elements
      if (c === 93) {
        if (this.sawComma) {
          this.problem = { kind: "empty-element", offset: base + i };
          return;
        }
        this.phase = "after";
        i++;
        continue;
      }
      if (c === 44) {
        if (!this.needComma) {
          this.problem = { kind: "empty-element", offset: base + i };
          return;
        }
        this.needComma = false;
        this.sawComma = true;
        i++;
        continue;
      }
      if (this.needComma) {
        // two elements without a comma: hand it to JSON.parse of the next element to report
        this.problem = { kind: "trailing-garbage", offset: base + i, found: text.slice(i, i + 20) };
        return;
      }
      start = i;
      depth = 0;
      inString = false;
      this.sawComma = false;
      // the opening char itself is processed by the element branch
    }
    if (start >= 0) {
      this.carry = text.slice(start);
      this.carryOffset = base + start;
      this.resume = i - start;
      this.elementStart = 0;
    } else {
      this.carry = "";
      this.carryOffset = base + n;
      this.elementStart = -1;
      this.resume = 0;
    }
    this.depth = depth;
    this.inString = inString;
    this.long = isLong;
    this.members = members;
    this.run = run;
  }

  private long = false;

  private members = 0;

  private run = 0;

  private resume = 0;

  /** Call at end of input; sets `problem` when the array was not closed. */
  end(): void {
    if (this.problem) return;
    if (this.phase === "after") return;
    if (this.phase === "before") {
      this.problem = { kind: "truncated", offset: this.carryOffset };
      return;
    }
    this.problem = { kind: "truncated", offset: this.carryOffset };
  }

  /** Absolute char offset where the next element would begin (for error messages). */
  get offset(): number {
    return this.carryOffset;
  }
}
