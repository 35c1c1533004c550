/** A SQL statement with bind parameters, as every builder in `src/sql` returns it. */
export interface Statement {
  text: string;
  values: unknown[];
}
