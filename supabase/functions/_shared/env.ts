// Reads an environment variable in Deno (edge functions) and in Node (vitest imports shared code).
export function env(name: string): string | undefined {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (g.Deno?.env) return g.Deno.env.get(name) ?? undefined;
  return g.process?.env?.[name];
}

export function requireEnv(name: string): string {
  const v = env(name);
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
}
