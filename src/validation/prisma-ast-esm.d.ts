// @mrleebo/prisma-ast's ESM build: its CommonJS build cannot load chevrotain (ESM only) under tsx's require hook.
declare module "@mrleebo/prisma-ast/dist/prisma-ast.esm.js" {
  export * from "@mrleebo/prisma-ast";
}
