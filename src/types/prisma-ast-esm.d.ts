/**
 * The ESM build of @mrleebo/prisma-ast, typed as the package. Its CommonJS entry `require`s
 * chevrotain 11, which is ESM-only: that fails under tsx's require hook, the ESM build does not.
 */
declare module "@mrleebo/prisma-ast/dist/prisma-ast.esm.js" {
  export * from "@mrleebo/prisma-ast";
}
